using System.Globalization;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Timing;

/// <summary>
/// On a real redis-server the dashboard is told of queue changes instead of asking: Redis tracks its reads of the queue's
/// counters (CLIENT TRACKING, redirected to its subscription), as Redis itself reports in CLIENT LIST. With samples 10 s
/// apart, a push by another client still shows within 3 s; with a page open and nothing moving, the counters are not
/// read at all (the probe read them 25 times a second); and when the subscription's connection is cut, tracking is set
/// up again on the new one. ProbeFacts covers the embedded Garnet, which has no key tracking and is probed.
/// </summary>
[Collection(TimingGoals.Name)]
public sealed class KeyTrackingFacts(BrowserFixture browser, RedisServer redis, ITestOutputHelper output)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>
{
    [Fact]
    public async Task OnRedis_ChangesAreToldNotPolled_AndTrackingSurvivesACutSubscription()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = redis.Port.ToString(CultureInfo.InvariantCulture),
            ["Dashboard__SampleInterval"] = "00:00:10",
            ["Dashboard__ProbeInterval"] = new PiOps.Web.Configuration.DashboardOptions().ProbeInterval.ToString(), // the product's
        });
        var server = redis.Client.GetServer(redis.Client.GetEndPoints()[0]);
        var page = await browser.NewPageAsync();
        var latency = new DepthLatency(page, dashboard, redis.Client);
        await latency.OpenAsync();

        var first = await DashboardTracking.UntilAsync(server, TimeSpan.FromSeconds(15), _ => true);
        output.WriteLine($"tracking: {first}");

        var seen = new List<double>();
        for (int round = 1; round <= 3; round++)
        {
            seen.Add(await latency.NextAsync(TimeSpan.FromSeconds(3)));
        }

        // Nothing moves now: the probe would read SCARD about 50 times in 2 s; a told dashboard reads it not at all, or
        // once or twice as the last push's re-reading lands in the window.
        long before = (await ViewerLoad.CommandStatsAsync(server)).GetValueOrDefault("scard");
        await Task.Delay(TimeSpan.FromSeconds(2));
        long reads = (await ViewerLoad.CommandStatsAsync(server)).GetValueOrDefault("scard") - before;
        output.WriteLine($"SCARD calls in 2 idle s with a page open: {reads}");
        Assert.True(reads <= 3, $"{reads} SCARD calls in 2 s with nothing moving: the dashboard polls instead of being told");

        // Cut every subscription's connection; StackExchange.Redis makes a new one (a new client id), and tracking must
        // follow it or no invalidation would reach the dashboard.
        await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var second = await DashboardTracking.UntilAsync(server, TimeSpan.FromSeconds(30), t => t.Subscriber != first.Subscriber);
        output.WriteLine($"tracking after the cut: {second}");
        for (int round = 1; round <= 3; round++)
        {
            seen.Add(await latency.NextAsync(TimeSpan.FromSeconds(3)));
        }

        output.WriteLine($"depth change on screen after {string.Join(", ", seen.Select(l => $"{l:F0} ms"))}");
        Assert.All(seen, ms => Assert.True(ms < 3000, $"{ms:F0} ms"));
    }
}
