using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;

namespace PiOps.Bench;

/// <summary>
/// Redis commands per second, dashboard memory and CPU with 1 open page and with N (default 50), in one run against
/// a real redis-server; the 1-page figure is the baseline. Goal: commands per second do not grow with pages.
/// </summary>
internal static class ViewersBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int pages = args.Length > 0 ? int.Parse(args[0]) : 50;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        var browser = new BrowserFixture();
        await browser.InitializeAsync();
        try
        {
            await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
            {
                ["REDIS_HOST"] = "127.0.0.1",
                ["REDIS_PORT"] = redis.Port.ToString(),
            });
            var idle = await new ViewerLoad(browser, dashboard, redis).MeasureAsync(TimeSpan.FromSeconds(10));
            var load = new ViewerLoad(browser, dashboard, redis);
            await load.OpenUntilAsync(1);
            var one = await load.MeasureAsync(TimeSpan.FromSeconds(10));
            await load.OpenUntilAsync(pages);
            var many = await load.MeasureAsync(TimeSpan.FromSeconds(10));

            foreach (var m in new[] { idle, one, many })
            {
                Console.WriteLine($"{m.Pages,3} page(s): {m.CommandsPerSecond,6:F1} Redis commands/s, dashboard {m.ServerBytes / 1048576.0,6:F0} MiB, CPU {m.CpuCores * 100,5:F1} % of a core");
            }

            double ratio = many.CommandsPerSecond / one.CommandsPerSecond;
            double perPage = (many.ServerBytes - one.ServerBytes) / 1048576.0 / Math.Max(1, pages - 1);
            double cpuPerPage = (many.CpuCores - one.CpuCores) * 100 / Math.Max(1, pages - 1);
            Console.WriteLine($"commands/s ratio {pages} pages / 1 page: {ratio:F2}; memory per extra page: {perPage:F1} MiB; " +
                              $"CPU per extra page: {cpuPerPage:F2} % of a core");
            Console.WriteLine("Kubernetes API requests per page: pending (the Kubernetes test double is being built in another branch)");
            bool ok = ratio <= 1.1;
            Console.WriteLine(ok ? "goal met: Redis load does not grow with open pages" : "GOAL MISSED");
            return ok ? 0 : 1;
        }
        finally
        {
            await browser.DisposeAsync();
            await redis.DisposeAsync();
        }
    }
}
