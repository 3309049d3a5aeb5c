using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// The dashboard as a user runs it (its own process, embedded Garnet), real workers, and headless Chromium.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class DashboardEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Queue = "queue:task";
    private DashboardProcess _dashboard = default!;
    private ConnectionMultiplexer _redis = default!;
    private readonly List<WorkerProcess> _workers = [];

    private IDatabase Db => _redis.GetDatabase();

    private QueueKeys Keys => new(Queue);

    public async Task InitializeAsync()
    {
        _dashboard = await DashboardProcess.StartAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(_dashboard.RedisConfiguration);
    }

    public async Task DisposeAsync()
    {
        foreach (var w in _workers)
        {
            await w.DisposeAsync();
        }

        await _redis.DisposeAsync();
        await _dashboard.DisposeAsync();
    }

    private WorkerProcess StartWorker()
    {
        var worker = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = _dashboard.GarnetPort.ToString(),
            ["REDIS_PASSWORD"] = _dashboard.RedisPassword,
            ["POP_TIMEOUT_SECONDS"] = "1",
            ["HEARTBEAT_TTL_SECONDS"] = "3",
        });
        _workers.Add(worker);
        return worker;
    }

    private async Task<IPage> OpenAsync(string path)
    {
        var page = await browser.NewPageAsync();
        await GoAsync(page, path);
        return page;
    }

    /// <summary>Navigates and waits until the page is interactive (the circuit is up), not just prerendered.</summary>
    private async Task GoAsync(IPage page, string path)
    {
        await LivePage.GoAsync(page, _dashboard.BaseAddress + path);
    }

    [Fact]
    public async Task Enqueue_FromThePage_WorkersDrainIt_AndResultsAppear()
    {
        var page = await OpenAsync("/enqueue");

        await page.Locator("input[data-testid=iterations]").FillAsync("200000");
        await page.Locator("input[data-testid=count]").FillAsync("5");
        await page.Locator("[data-testid=enqueue]").ClickAsync();

        try
        {
            await Assertions.Expect(page.Locator("[data-testid=last-outcome]")).ToContainTextAsync("5 task(s) enqueued");
        }
        catch (PlaywrightException ex)
        {
            // What the page said (a snackbar goes after a few seconds) and what the dashboard logged, to tell a lost
            // click from a failed enqueue.
            var said = await page.Locator(".mud-snackbar, [data-testid=errors], .mud-input-error").AllInnerTextsAsync();
            throw new Xunit.Sdk.XunitException($"no outcome after the click: {ex.Message.Split('\n')[0]}\n" +
                $"queue length {await Db.ListLengthAsync(Keys.Queue)}; on the page: {string.Join(" | ", said)}\n" +
                $"dashboard output:\n{string.Join("\n", _dashboard.Output.Split('\n').TakeLast(40))}");
        }

        Assert.Equal(5, await Db.ListLengthAsync(Keys.Queue));
        StartWorker();

        await GoAsync(page, "/");
        await Assertions.Expect(page.Locator("[data-testid=depth-value]")).ToHaveTextAsync("0", new() { Timeout = 30_000 });
        await GoAsync(page, "/tasks");
        var rows = page.Locator("[data-testid=results-table] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(5, new() { Timeout = 30_000 });
        await Assertions.Expect(rows.First).ToContainTextAsync(PiOps.Shared.Pi.LeibnizPi.Compute(200000).ToString());
    }

    [Fact]
    public async Task ALinkClickedBeforeThePageIsInteractive_LoadsThePageItNames()
    {
        var page = await browser.NewPageAsync();
        // The circuit cannot connect until released: the page stays prerendered, as on a slow network.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/_blazor/negotiate**", async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        await page.GotoAsync(_dashboard.BaseAddress + "/");
        await Assertions.Expect(page.Locator("[data-interactive=no]")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Logs" }).First.ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(_dashboard.BaseAddress + "/logs");
        await Assertions.Expect(page.Locator("input[data-testid=log-selector]")).ToBeVisibleAsync();
        release.SetResult();
        await LivePage.WaitInteractiveAsync(page);
        await Assertions.Expect(page.Locator("input[data-testid=log-selector]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Enqueue_BadValue_IsExplained_AndNothingIsEnqueued()
    {
        var page = await OpenAsync("/enqueue");

        await page.Locator("input[data-testid=iterations]").FillAsync("12abc");
        await page.Locator("[data-testid=enqueue]").ClickAsync();

        await Assertions.Expect(page.GetByText("Iterations must be a whole number")).ToBeVisibleAsync();
        Assert.Equal(0, await Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task BadEntry_PushedRaw_IsDeadLettered_ThenCorrectedAndRetried()
    {
        StartWorker();
        await Db.ListRightPushAsync(Keys.Queue, "5,000");
        var page = await OpenAsync("/dead-letters");

        // With the page's text, the browser's console and the dashboard's log if a step fails: in one stressed run of
        // f2ca0a7 the dialog did not open within 15 s of the click (being looked into; no retry is added here).
        await LivePage.ExplainedAsync(page, _dashboard, output, async () =>
        {
            var row = page.Locator("[data-testid=dead-table] tbody tr").First;
            await Assertions.Expect(row).ToContainTextAsync("not a whole number", new() { Timeout = 30_000 });
            await row.Locator("[data-testid=retry]").ClickAsync();
            await Assertions.Expect(page.Locator("input[data-testid=corrected-iterations]")).ToHaveValueAsync("5000");
            await page.Locator("[data-testid=corrected-retry]").ClickAsync();

            await Assertions.Expect(page.Locator("#mud-snackbar-container").GetByText("Put back on the queue with 5,000 iterations, as task t-")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-testid=dead-table]")).ToContainTextAsync("No dead letters.");
        });
        await Eventually.WaitAsync(async () => (await Db.ListRangeAsync(Keys.Results)).Any(v => ((string)v!).Contains("\"iterations\":5000")),
            TimeSpan.FromSeconds(30), "the corrected task's result");
    }

    [Fact]
    public async Task Purge_AsksWithTheCount_AndEmptiesTheQueue()
    {
        await Db.ListRightPushAsync(Keys.Queue, Enumerable.Range(1, 30).Select(i => (RedisValue)i.ToString()).ToArray());
        var page = await OpenAsync("/queue");
        await Assertions.Expect(page.Locator("[data-testid=queue-table] tbody tr")).ToHaveCountAsync(25);

        await page.Locator("[data-testid=purge]").ClickAsync();
        await Assertions.Expect(page.GetByText("This removes the 30 task(s) waiting now")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove 30 task(s)" }).ClickAsync();

        await Assertions.Expect(page.Locator("#mud-snackbar-container").GetByText("Removed 30 task(s) from the queue.")).ToBeVisibleAsync();
        Assert.Equal(0, await Db.ListLengthAsync(Keys.Queue));
        await Assertions.Expect(page.Locator("[data-testid=queue-table]")).ToContainTextAsync("The queue is empty.");
    }

    [Theory]
    [InlineData(ColorScheme.Dark, true)]
    [InlineData(ColorScheme.Light, false)]
    public async Task Theme_FollowsTheBrowsersColourScheme(ColorScheme scheme, bool dark)
    {
        var context = await browser.Browser.NewContextAsync(new() { ColorScheme = scheme });
        var page = await context.NewPageAsync();
        await LivePage.GoAsync(page, _dashboard.BaseAddress + "/");

        // MudBlazor paints the page background from its palette; dark means a dark background.
        await Eventually.WaitAsync(async () =>
        {
            string color = await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
            var rgb = color[(color.IndexOf('(') + 1)..color.IndexOf(')')].Split(',').Take(3).Select(v => int.Parse(v.Trim())).ToArray();
            return (rgb.Average() < 100) == dark;
        }, TimeSpan.FromSeconds(15), $"a {(dark ? "dark" : "light")} background");
        await context.CloseAsync();
    }

    [Fact]
    public async Task Layout_WorksOnAPhone()
    {
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true });
        var page = await context.NewPageAsync();
        await LivePage.GoAsync(page, _dashboard.BaseAddress + "/");

        var box = await page.Locator("[data-testid=depth]").BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.X >= 0 && box.X + box.Width <= 390, $"the depth card is off screen: {box.X}+{box.Width}");
        int scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 400, $"the page scrolls sideways ({scrollWidth} px wide)");
        await context.CloseAsync();
    }

    [Fact]
    public async Task Workers_PageShowsALiveWorker_AndPauseStopsIt()
    {
        StartWorker();
        var page = await OpenAsync("/workers");
        await Assertions.Expect(page.Locator("[data-testid=workers-table] tbody tr")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=workers-table]")).ToContainTextAsync("idle");

        await GoAsync(page, "/queue");
        await page.Locator("[data-testid=pause]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=resume]")).ToBeVisibleAsync();
        await GoAsync(page, "/workers");

        await Assertions.Expect(page.Locator("[data-testid=workers-table]")).ToContainTextAsync("paused", new() { Timeout = 30_000 });
    }
}
