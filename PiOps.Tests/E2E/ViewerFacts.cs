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
        var ten = await load.MeasureAsync(TimeSpan.FromSeconds(5));

        output.WriteLine($"1 page: {one.CommandsPerSecond:F1} commands/s; 10 pages: {ten.CommandsPerSecond:F1} commands/s");
        Assert.True(one.CommandsPerSecond > 5, $"the sampler should be reading Redis ({one.CommandsPerSecond:F1}/s)");
        Assert.True(ten.CommandsPerSecond <= one.CommandsPerSecond * 1.1,
            $"10 pages: {ten.CommandsPerSecond:F1} commands/s against {one.CommandsPerSecond:F1} for one page");
    }
}
