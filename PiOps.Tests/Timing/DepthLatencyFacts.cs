using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using PiOps.Tests.E2E;

namespace PiOps.Tests.Timing;

/// <summary>A queue depth change pushed by another client shows in an open page, as a user runs the dashboard.</summary>
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
    public async Task QueueDepthChange_IsVisibleInAnOpenPage_Within500Milliseconds()
    {
        var keys = new QueueKeys("queue:task");
        var db = _redis.GetDatabase();
        var page = await browser.NewPageAsync();
        await LivePage.GoAsync(page, _dashboard.BaseAddress + "/");
        await Microsoft.Playwright.Assertions.Expect(page.Locator("[data-testid=depth-value]")).ToHaveTextAsync("0");
        await db.StringSetAsync(keys.Paused, "1"); // no worker here anyway; keeps the count still

        var latencies = new List<double>();
        for (int round = 1; round <= 5; round++)
        {
            var sw = Stopwatch.StartNew();
            await db.ListRightPushAsync(keys.Queue, "1");
            await page.WaitForFunctionAsync(
                "n => document.querySelector('[data-testid=depth-value]')?.textContent.trim() === String(n)", round,
                new() { PollingInterval = 10, Timeout = 10_000 });
            latencies.Add(sw.Elapsed.TotalMilliseconds);
            await Task.Delay(300);
        }

        // The median of five rounds: the goal is about the design (a 250 ms sample and a 100 ms render throttle), so
        // one round that meets a garbage collection or a busy core does not decide it.
        output.WriteLine($"depth change on screen after {string.Join(", ", latencies.Select(l => $"{l:F0} ms"))}");
        latencies.Sort();
        Assert.True(latencies[2] < 500, $"depth change took {string.Join(", ", latencies.Select(l => $"{l:F0} ms"))}");
    }
}
