using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// "Following" keeps the newest line in view, as `kubectl logs -f`, k9s and Headlamp do; scrolling up pauses and says
/// so, and the view then stays put while lines arrive; a button returns to the tail.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class LogsFollowEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private const string AtEnd = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 24";

    [Fact]
    public async Task Logs_Following_KeepsNewestLineInView_ScrollUpPauses_NewestReturns()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(1280, 800);
        await LivePage.ExplainedAsync(page, dashboard, output, () => RunAsync(redis, page, dashboard));
    }

    [Fact]
    public async Task Logs_OfAPodThatIsGone_SayWhy_AndOfferTheWorkers()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        var page = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            string around = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-30).ToString("O"));
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/logs?target=pod/pi-worker-5f9c7d-gone1&around=" + around);
            await Assertions.Expect(page.Locator("[data-testid=log-empty]")).ToContainTextAsync("Pod pi-worker-5f9c7d-gone1 does not exist now");

            await page.Locator("[data-testid=log-tail-workers]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=log-pod]")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-testid=log-line]").Filter(new() { HasText = "starting" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-testid=log-empty]")).ToHaveCountAsync(0);
        });
    }

    private static async Task RunAsync(IConnectionMultiplexer redis, IPage page, DashboardProcess dashboard)
    {
        var queue = new QueueKeys("queue:task").Queue;
        var db = redis.GetDatabase();
        // Lines before the page opens: more than the pane holds.
        await db.ListRightPushAsync(queue, Enumerable.Range(1, 60).Select(i => (RedisValue)(1000 + i).ToString()).ToArray());
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/logs");
        var pane = page.Locator("[data-testid=log-lines]");
        var lines = page.Locator("[data-testid=log-line]");
        var follow = page.Locator(".mud-switch:has(input[data-testid=log-follow])");
        await Assertions.Expect(lines.Filter(new() { HasText = "got task: 1060" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });

        // Opened following: the newest line is the one in view, not the oldest kept.
        await Eventually.WaitAsync(() => pane.EvaluateAsync<bool>(AtEnd), TimeSpan.FromSeconds(15), "the pane at its newest line on opening");
        await Assertions.Expect(lines.Filter(new() { HasText = "got task: 1060" })).ToBeInViewportAsync();

        // New lines keep the view at the end.
        await db.ListRightPushAsync(queue, Enumerable.Range(1, 40).Select(i => (RedisValue)(2000 + i).ToString()).ToArray());
        await Assertions.Expect(lines.Filter(new() { HasText = "got task: 2040" })).ToBeInViewportAsync(new() { Timeout = 30_000 });
        await Eventually.WaitAsync(() => pane.EvaluateAsync<bool>(AtEnd), TimeSpan.FromSeconds(15), "the pane at its newest line as lines arrive");

        // Scrolling up pauses and says so; lines that arrive then do not move the view.
        await pane.HoverAsync();
        await page.Mouse.WheelAsync(0, -600);
        await Assertions.Expect(follow).ToContainTextAsync("Paused (scrolled up)", new() { Timeout = 15_000 });
        double top = await pane.EvaluateAsync<double>("el => el.scrollTop");
        await db.ListRightPushAsync(queue, Enumerable.Range(1, 20).Select(i => (RedisValue)(3000 + i).ToString()).ToArray());
        await Assertions.Expect(follow).Not.ToContainTextAsync(": 0 new", new() { Timeout = 30_000 });
        Assert.Equal(top, await pane.EvaluateAsync<double>("el => el.scrollTop"));
        Assert.False(await pane.EvaluateAsync<bool>(AtEnd));

        // The button returns to the tail, with the lines that came meanwhile.
        await page.Locator("[data-testid=log-newest]").ClickAsync();
        await Assertions.Expect(follow).ToContainTextAsync("Following");
        await Assertions.Expect(lines.Filter(new() { HasText = "got task: 3020" })).ToBeInViewportAsync(new() { Timeout = 15_000 });
        await Eventually.WaitAsync(() => pane.EvaluateAsync<bool>(AtEnd), TimeSpan.FromSeconds(15), "the pane at its newest line after Newest");
    }
}
