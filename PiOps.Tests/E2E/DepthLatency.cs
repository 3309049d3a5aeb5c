using System.Diagnostics;
using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Tests.E2E;

/// <summary>
/// Pushes a task with another Redis client and times until an open Overview shows the new depth, round after round.
/// Shared by the fact (every change arrives, with no reload) and the page-latency benchmark (how fast).
/// </summary>
public sealed class DepthLatency(IPage page, DashboardProcess dashboard, IConnectionMultiplexer redis)
{
    private readonly QueueKeys _keys = new("queue:task");
    private long _depth;

    /// <summary>Opens the Overview and pauses the queue, so the depth moves only by this class's pushes.</summary>
    public async Task OpenAsync()
    {
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/");
        await redis.GetDatabase().StringSetAsync(_keys.Paused, "1");
        _depth = await redis.GetDatabase().ListLengthAsync(_keys.Queue);
        await Assertions.Expect(page.Locator("[data-testid=depth-value]")).ToHaveTextAsync(_depth.ToString());
        // The page notes, by the wall clock this process shares, when each depth first appears in its DOM: the time a
        // change reaches the page, without the test's own polling of a busy browser in it.
        await page.EvaluateAsync("""
            () => {
              window.piopsDepthSeen = {};
              const note = () => {
                const text = document.querySelector('[data-testid=depth-value]')?.textContent.trim();
                if (text !== undefined && !(text in window.piopsDepthSeen)) window.piopsDepthSeen[text] = Date.now();
              };
              new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
            }
            """);
    }

    /// <summary>
    /// Milliseconds from the push to the new depth in the page's DOM, and to the test seeing it there (which adds its
    /// polling of the browser); throws when it is not there within <paramref name="timeout"/>.
    /// </summary>
    public async Task<(double InPage, double Seen)> NextTimedAsync(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        long pushedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _depth = await redis.GetDatabase().ListRightPushAsync(_keys.Queue, "1");
        await page.WaitForFunctionAsync(
            "n => document.querySelector('[data-testid=depth-value]')?.textContent.trim() === String(n)", _depth,
            new() { PollingInterval = 10, Timeout = (float)timeout.TotalMilliseconds });
        double seen = sw.Elapsed.TotalMilliseconds;
        long? shownAt = await page.EvaluateAsync<long?>("n => window.piopsDepthSeen?.[String(n)] ?? null", _depth);
        return (shownAt is { } at ? Math.Max(0, at - pushedAt) : seen, seen);
    }

    /// <summary>Milliseconds from the push to the new depth on screen; throws when it is not there within <paramref name="timeout"/>.</summary>
    public async Task<double> NextAsync(TimeSpan timeout) => (await NextTimedAsync(timeout)).Seen;

    /// <summary>
    /// The measurement's own floor: milliseconds until the same polling sees a change the page makes to itself.
    /// </summary>
    public async Task<double> BaselineAsync()
    {
        var sw = Stopwatch.StartNew();
        await page.EvaluateAsync("() => setTimeout(() => document.body.dataset.piopsProbe = String(Date.now()), 0)");
        await page.WaitForFunctionAsync("() => document.body.dataset.piopsProbe !== undefined", null,
            new() { PollingInterval = 10, Timeout = 10_000 });
        double ms = sw.Elapsed.TotalMilliseconds;
        await page.EvaluateAsync("() => delete document.body.dataset.piopsProbe");
        return ms;
    }
}
