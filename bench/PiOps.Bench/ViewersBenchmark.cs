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
            bool ok = ratio <= 1.1;
            Console.WriteLine(ok ? "goal met: Redis load does not grow with open pages" : "GOAL MISSED");
            return await ClusterAsync(browser, redis, pages) && ok ? 0 : 1;
        }
        finally
        {
            await browser.DisposeAsync();
            await redis.DisposeAsync();
        }
    }

    /// <summary>
    /// The same pages count against the Kubernetes API double: requests while opening pages and over a window, with 1
    /// page (the baseline) and with N. The watches' own restarts (every WatchTimeout, 5 min by default) are the only
    /// steady load, so the timeout is an hour here: any request counted is one a page caused. The goal: pages add none.
    /// </summary>
    private static async Task<bool> ClusterAsync(BrowserFixture browser, RedisServer redis, int pages)
    {
        await using var cluster = await PiOps.Tests.Kubernetes.ClusterDashboard.StartAsync(redis,
            new Dictionary<string, string?> { ["Kubernetes:WatchTimeout"] = "01:00:00" });
        var load = new PiOps.Tests.Kubernetes.ClusterViewerLoad(browser, cluster);
        var openOne = await load.OpenUntilAsync(1);
        var one = await load.MeasureAsync(TimeSpan.FromSeconds(10));
        var openMany = await load.OpenUntilAsync(pages);
        var many = await load.MeasureAsync(TimeSpan.FromSeconds(10));
        foreach (var m in new[] { openOne, one, openMany, many })
        {
            Console.WriteLine($"Kubernetes API, {m.Describe()}");
        }

        bool ok = openMany.Total <= openOne.Total && many.Total <= one.Total * 1.1;
        Console.WriteLine(ok ? "goal met: Kubernetes API requests do not grow with open pages" : "GOAL MISSED (Kubernetes API requests)");
        return ok;
    }
}
