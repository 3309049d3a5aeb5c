using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.E2E;

/// <summary>The Redis load of the dashboard does not grow with the number of open pages.</summary>
[Collection(HeavyLanes.First)]
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
        // No page: the sampler reads, the probe does not (it, and key tracking, start only when someone watches).
        var none = await load.MeasureAsync(TimeSpan.FromSeconds(3));
        Assert.True(none.Samples >= 3 && none.Probes == 0, $"no page open: {none.Describe()}");

        await load.OpenUntilAsync(1);
        var one = await load.MeasureAsync(TimeSpan.FromSeconds(5));
        await load.OpenUntilAsync(10);
        // Steady state: a page whose circuit reconnects on a loaded machine reads its first screen again, once.
        // Such a one-off lands in one window; a per-page cost lands in all of them.
        var ten = await load.MeasureAsync(TimeSpan.FromSeconds(5));
        for (int window = 2; window <= 3 && !Flat(one, ten); window++)
        {
            output.WriteLine($"10 pages, window {window - 1}: {ten.Describe()}");
            var next = await load.MeasureAsync(TimeSpan.FromSeconds(5));
            ten = next.CommandsPerSample < ten.CommandsPerSample ? next : ten;
        }

        output.WriteLine(one.Describe());
        output.WriteLine(ten.Describe());
        Assert.True(one.Samples >= 3, $"the sampler should be reading Redis: {one.Describe()}");
        Assert.True(ten.Samples >= 3, $"the sampler should be reading Redis: {ten.Describe()}");
        // A page open: Redis tells the dashboard of changes to the queue's counters (on Garnet the probe reads them instead).
        await DashboardTracking.UntilAsync(redis.Client.GetServer(redis.Client.GetEndPoints()[0]), TimeSpan.FromSeconds(15), _ => true);
        // A page's own reads raise the commands per sample; a page that made the sampler run more often would show
        // as more samples per second than its interval allows.
        Assert.True(Flat(one, ten), $"{ten.Describe()} against {one.Describe()}");
        Assert.True(ten.SamplesPerSecond <= MaxSamplesPerSecond, $"pages made the sampler run more often: {ten.Describe()}");
    }

    // The dashboard's default Dashboard:SampleInterval is 250 ms: at most four samples a second, with a margin for the
    // window's edges.
    private const double MaxSamplesPerSecond = 4 * 1.15;

    private static bool Flat(ViewerLoad.Measurement one, ViewerLoad.Measurement ten) =>
        ten.CommandsPerSample <= one.CommandsPerSample * 1.1;
}
