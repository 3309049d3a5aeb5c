using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.Timing;

/// <summary>
/// A queue depth change pushed by another client shows in an open page without a reload, as a user runs the
/// dashboard. How fast is measured by `./bench/run.sh page-latency`, not here: a busy CI machine says nothing about it.
/// </summary>
[Collection(TimingGoals.Name)]
public sealed class DepthLatencyFacts(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private DashboardProcess _dashboard = default!;
    private ConnectionMultiplexer _redis = default!;

    public async Task InitializeAsync()
    {
        _dashboard = await DashboardProcess.StartAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(_dashboard.RedisConfiguration);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _dashboard.DisposeAsync();
    }

    [Fact]
    public async Task QueueDepthChanges_AreEachShownInAnOpenPage_WithoutAReload()
    {
        var page = await browser.NewPageAsync();
        var latency = new DepthLatency(page, _dashboard, _redis);
        await latency.OpenAsync();
        string url = page.Url;

        var seen = new List<double>();
        for (int round = 1; round <= 5; round++)
        {
            seen.Add(await latency.NextAsync(TimeSpan.FromSeconds(15)));
        }

        output.WriteLine($"depth change on screen after {string.Join(", ", seen.Select(l => $"{l:F0} ms"))}");
        Assert.Equal(url, page.Url);
    }
}
