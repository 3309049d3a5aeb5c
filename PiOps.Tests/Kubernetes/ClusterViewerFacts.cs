using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>The Kubernetes API load of the dashboard does not grow with the number of open workload pages.</summary>
[Collection(HeavyLanes.Second)]
public sealed class ClusterViewerFacts(BrowserFixture browser, RedisServer redis, ITestOutputHelper output)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>
{
    [Fact]
    public async Task ApiRequests_DoNotGrow_From1To10OpenWorkloadPages()
    {
        // Watches end on their own after WatchTimeout; a long one keeps their restarts out of the short windows.
        await using var cluster = await ClusterDashboard.StartAsync(redis, new Dictionary<string, string?>
        {
            ["Kubernetes:WatchTimeout"] = "00:10:00",
        });
        int watches = cluster.Api.OpenWatches;
        var load = new ClusterViewerLoad(browser, cluster);

        var openOne = await load.OpenUntilAsync(1);
        var one = await load.MeasureAsync(TimeSpan.FromSeconds(5));
        var openTen = await load.OpenUntilAsync(10);
        var ten = await load.MeasureAsync(TimeSpan.FromSeconds(5));

        foreach (var m in new[] { openOne, one, openTen, ten })
        {
            output.WriteLine(m.Describe());
        }

        Assert.True(watches >= 6, $"the cache should hold a watch per kind ({watches} open)");
        Assert.Equal(watches, cluster.Api.OpenWatches);
        Assert.True(openTen.Total <= openOne.Total, $"opening pages 2 to 10 made API requests: {openTen.Describe()}");
        Assert.True(ten.Total <= one.Total * 1.1, $"{ten.Describe()} against {one.Describe()}");
    }
}
