using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.E2E;

/// <summary>The Redis load of the dashboard does not grow with the number of open pages.</summary>
[Collection(DashboardProcesses.Name)]
public sealed class ViewerFacts(BrowserFixture browser, RedisServer redis, ITestOutputHelper output)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>
{
    [Fact]
    public async Task RedisCommandsPerSecond_StayFlat_From1To10OpenPages()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = redis.Port.ToString(),
        });
        var load = new ViewerLoad(browser, dashboard, redis);

        await load.OpenUntilAsync(1);
        var one = await load.MeasureAsync(TimeSpan.FromSeconds(5));
        await load.OpenUntilAsync(10);
        // Steady state: a page whose circuit reconnects on a loaded machine reads its first screen again, once.
        // Such a one-off lands in one window; a per-page cost lands in all of them.
        var ten = await load.MeasureAsync(TimeSpan.FromSeconds(5));
        for (int window = 2; window <= 3 && ten.CommandsPerSecond > one.CommandsPerSecond * 1.1; window++)
        {
            output.WriteLine($"10 pages, window {window - 1}: {ten.CommandsPerSecond:F1} commands/s ({ten.Commands})");
            var next = await load.MeasureAsync(TimeSpan.FromSeconds(5));
            ten = next.CommandsPerSecond < ten.CommandsPerSecond ? next : ten;
        }


        output.WriteLine($"1 page: {one.CommandsPerSecond:F1} commands/s ({one.Commands}); " +
                         $"10 pages: {ten.CommandsPerSecond:F1} commands/s ({ten.Commands})");
        Assert.True(one.CommandsPerSecond > 5, $"the sampler should be reading Redis ({one.CommandsPerSecond:F1}/s)");
        Assert.True(ten.CommandsPerSecond <= one.CommandsPerSecond * 1.1,
            $"10 pages: {ten.CommandsPerSecond:F1} commands/s ({ten.Commands}) against {one.CommandsPerSecond:F1} ({one.Commands})");
    }
}
