using Microsoft.Extensions.DependencyInjection;
using Bunit;
using PiOps.Shared.Queue;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Pages;
using PiOps.Web.Queue;
using Xunit;

namespace PiOps.Tests.Components;

public sealed class PageFacts : BunitContext, IAsyncLifetime
{
    private readonly FakeQueueState _state;
    private readonly FakeQueueOperations _ops;

    public PageFacts()
    {
        (_state, _ops) = this.AddTestServices();
    }

    [Theory]
    [InlineData("abc", "1", "Iterations must be a whole number")]
    [InlineData("-5", "1", "must not be negative")]
    [InlineData("100000000001", "1", "over the maximum")]
    [InlineData("", "1", "empty")]
    [InlineData("100", "0", "Count must be a whole number from 1 to 1,000,000")]
    [InlineData("100", "2000000", "Count must be a whole number from 1 to 1,000,000")]
    [InlineData("100", "x", "Count must be a whole number")]
    public void Enqueue_BadValue_IsExplainedNextToTheField_AndNothingIsEnqueued(string iterations, string count, string message)
    {
        var page = this.RenderWithProviders<Enqueue>();

        page.Act(() => page.Find("input[data-testid=iterations]").Input(iterations));
        page.Act(() => page.Find("input[data-testid=count]").Input(count));
        page.Act(() => page.Find("[data-testid=enqueue]").Click());

        page.WaitForAssertion(() => Assert.Contains(message, page.Markup));
        Assert.Empty(_ops.Calls);
    }

    [Fact]
    public void Enqueue_BadValue_LeavesARefusedAuditEntry_WithTheReason()
    {
        var page = this.RenderWithProviders<Enqueue>();

        page.Act(() => page.Find("input[data-testid=iterations]").Input("abc"));
        page.Act(() => page.Find("[data-testid=enqueue]").Click());

        page.WaitForAssertion(() => Assert.Single(_ops.Recorded));
        Assert.StartsWith("enqueue not done: refused: Iterations must be a whole number", _ops.Recorded[0]);
        Assert.Empty(_ops.Calls);
    }

    [Fact]
    public void Enqueue_GoodValues_EnqueueOnce_AndReportTheOutcome()
    {
        var page = this.RenderWithProviders<Enqueue>();

        page.Act(() => page.Find("input[data-testid=iterations]").Input("250"));
        page.Act(() => page.Find("input[data-testid=count]").Input("3"));
        page.Act(() => page.Find("[data-testid=enqueue]").Click());

        page.WaitForAssertion(() => Assert.Contains("3 task(s) enqueued", page.Find("[data-testid=last-outcome]").TextContent));
        Assert.Equal(["enqueue 250 x3 Envelope"], _ops.Calls);
        // Which ids it made, to look them up.
        Assert.Equal("Task ids bfake-0 to bfake-2, in the order they run.",
            System.Text.RegularExpressions.Regex.Replace(page.Find("[data-testid=last-ids]").TextContent, @"\s+", " ").Trim());
    }

    [Fact]
    public void Workers_ShowProgress_OnlyForTasksThatReportIt()
    {
        var now = DateTimeOffset.UtcNow;
        WorkerView Busy(string id, long iterations, long done) =>
            new(id, "h", 1, "busy", new CurrentTask("t-" + id, iterations, now, done), 0, 0, now, now, false, null);
        _state.Push(FakeQueueState.Snapshot(0) with
        {
            Workers = [Busy("book", CurrentTask.SmallTask, 0), Busy("long", 2_000_000_000, 500_000_000)],
        });
        var page = Render<Workers>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=workers-table] tbody tr").Count));
        var rows = page.FindAll("[data-testid=workers-table] tbody tr");
        var book = rows.Single(r => r.TextContent.Contains("t-book"));
        var longer = rows.Single(r => r.TextContent.Contains("t-long"));
        Assert.Empty(book.QuerySelectorAll("[role=progressbar]"));
        Assert.Contains("no progress reported", book.TextContent);
        var bar = Assert.Single(longer.QuerySelectorAll("[role=progressbar]"));
        Assert.Equal("25", bar.GetAttribute("aria-valuenow"));
        Assert.Empty(longer.QuerySelectorAll("[data-testid=no-progress]"));
    }

    [Fact]
    public void Workers_NameAWorkerOfAnEarlierProtocol_AndOnlyThatOne()
    {
        var now = DateTimeOffset.UtcNow;
        WorkerView Idle(string id, int protocol) => new(id, "h", 1, "idle", null, 0, 0, now, now, false, null, protocol);
        _state.Push(FakeQueueState.Snapshot(0) with { Workers = [Idle("current", QueueProtocol.Current), Idle("earlier", 1)] });
        var page = Render<Workers>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=workers-table] tbody tr").Count));
        var rows = page.FindAll("[data-testid=workers-table] tbody tr");
        var earlier = rows.Single(r => r.TextContent.Contains("earlier"));
        Assert.Contains("queue protocol 1", Assert.Single(earlier.QuerySelectorAll("[data-testid=earlier-protocol]")).TextContent);
        Assert.Empty(rows.Single(r => r.TextContent.Contains("current")).QuerySelectorAll("[data-testid=earlier-protocol]"));
    }

    [Fact]
    public void Overview_RendersTheSnapshot_AndFollowsChanges()
    {
        _state.Push(FakeQueueState.Snapshot(5, dead: 2));
        var page = Render<Overview>();
        page.WaitForAssertion(() => Assert.Equal("5", page.Find("[data-testid=depth-value]").TextContent));

        _state.Push(FakeQueueState.Snapshot(9, dead: 2));

        page.WaitForAssertion(() => Assert.Equal("9", page.Find("[data-testid=depth-value]").TextContent));
        Assert.Equal("2", page.Find("[data-testid=dead-value]").TextContent);
    }

    [Fact]
    public void Overview_SaysWhichDashboardRunsEachSingletonDuty()
    {
        _state.Push(FakeQueueState.Snapshot(0) with
        {
            Duties =
            [
                new DutyHolder("dead-worker recovery", "pod-a:1:aa", true),
                new DutyHolder("the local autoscaler", "pod-b:7:bb", false),
                new DutyHolder("CronJob triggers", "pod-b:7:bb", false),
            ],
        });

        var page = Render<Overview>();

        page.WaitForAssertion(() => Assert.Equal(
            "Run by one dashboard at a time: dead-worker recovery by this dashboard (pod-a:1:aa); the local autoscaler and CronJob triggers by pod-b:7:bb.",
            page.Find("[data-testid=duties]").TextContent.Trim()));
    }

    [Fact]
    public void Overview_SaysNothingOfDuties_WhenThisDashboardRunsThemAll()
    {
        _state.Push(FakeQueueState.Snapshot(0) with
        {
            Duties = [new DutyHolder("dead-worker recovery", "pod-a:1:aa", true), new DutyHolder("CronJob triggers", "pod-a:1:aa", true)],
        });

        var page = Render<Overview>();

        page.WaitForAssertion(() => page.Find("[data-testid=depth-chart-values]"));
        Assert.Empty(page.FindAll("[data-testid=duties]"));
    }

    [Fact]
    public async Task Overview_Unsubscribes_WhenDisposed()
    {
        Render<Overview>();
        Assert.Equal(1, _state.Subscribers);

        await DisposeComponentsAsync();

        Assert.Equal(0, _state.Subscribers);
    }

    [Fact]
    public void RedisBanner_SaysWhatIsWrong_AndGoesAwayWhenRedisIsBack()
    {
        var banner = Render<RedisBanner>();
        _state.Push(FakeQueueState.Snapshot(0, available: false));
        banner.WaitForAssertion(() => Assert.Contains("is not answering", banner.Find("[data-testid=redis-banner]").TextContent));

        _state.Push(FakeQueueState.Snapshot(0));

        banner.WaitForAssertion(() => Assert.Empty(banner.FindAll("[data-testid=redis-banner]")));
    }

    [Fact]
    public void LiveRegion_SaysWhenRedisStopsAndStartsAnswering_NotTheNumbers()
    {
        Services.AddSingleton<PiOps.Web.Workloads.IWorkloadBackends>(new PiOps.Web.Workloads.SingleWorkloadBackend(new FakeWorkloadRuntime()));
        Services.AddScoped<PiOps.Web.Workloads.WorkloadSelection>();
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        var region = Render<LiveAnnouncer>();
        string Said() => region.Find("[data-testid=announcer]").TextContent;

        _state.Push(FakeQueueState.Snapshot(40));
        _state.Push(FakeQueueState.Snapshot(0, available: false));
        region.WaitForAssertion(() => Assert.Contains("Redis is unreachable: Redis at 127.0.0.1:1 is not answering", Said()), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("40", Said(), StringComparison.Ordinal);

        _state.Push(FakeQueueState.Snapshot(7));
        region.WaitForAssertion(() => Assert.Contains("Redis answers again", Said()), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Purge_AsksForConfirmation_StatingHowMany_ThenPurgesThatMany()
    {
        _ops.QueueLength = 7;
        _state.Push(FakeQueueState.Snapshot(7));
        var page = this.RenderWithProviders<QueueView>();
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=purge]").HasAttribute("disabled")));

        page.Act(() => page.Find("[data-testid=purge]").Click());

        page.WaitForAssertion(() => Assert.Contains("removes the 7 task(s) waiting now", page.Markup));
        Assert.Empty(_ops.Calls);
        page.Act(() => page.FindAll("button").Single(b => b.TextContent.Contains("Remove 7 task(s)")).Click());
        page.WaitForAssertion(() => Assert.Equal(["purge 7"], _ops.Calls));
    }

    [Fact]
    public void Overview_SaysWhetherSomethingIsWrong_AndWhereToLook()
    {
        _state.Push(FakeQueueState.Snapshot(40) with { Workers = [] });
        var page = this.RenderWithProviders<Overview>();

        page.WaitForAssertion(() => Assert.Contains("40 task(s) wait and no worker is alive.", page.Find("[data-testid=health]").TextContent));
        Assert.Equal("workers", page.Find("[data-testid=health-link]").GetAttribute("href"));
        _state.Push(FakeQueueState.Snapshot(0));
        page.WaitForAssertion(() => Assert.Contains("No problem seen", page.Find("[data-testid=health]").TextContent));
    }

    [Fact]
    public void Overview_ShowsASlowRatePerMinute_OnAnAxisThatFitsIt()
    {
        var now = DateTimeOffset.UtcNow;
        var history = Enumerable.Range(0, 30).Select(i => new HistoryPoint(now.AddSeconds(i - 30), 12_000 + i, 0.4, 0, 1)).ToList();
        _state.Push(FakeQueueState.Snapshot(12_030) with { History = history, DonePerSecond = 0.4 });
        var page = this.RenderWithProviders<Overview>();

        // Every check inside the wait: the pushed snapshot reaches the charts on the page's next render.
        page.WaitForAssertion(() =>
        {
            Assert.Contains("Done and failed per minute", page.Markup);
            var charts = page.FindComponents<TrendChart>();
            var rate = charts.Single(c => c.Instance.Series.Any(s => s.Name == "done/min"));
            Assert.All(rate.Instance.Series.Single(s => s.Name == "done/min").Values, v => Assert.Equal(24, v, 6));
            Assert.Equal(["0", "5", "10", "15", "20", "25"], rate.FindAll("svg text").Select(t => t.TextContent).Where(t => !t.Contains(':')));
            var depth = charts.Single(c => c.Instance.Series.Any(s => s.Name == "waiting"));
            Assert.Equal(["0", "5,000", "10,000", "15,000"], depth.FindAll("svg text").Select(t => t.TextContent).Where(t => !t.Contains(':')));
        });
    }

    [Fact]
    public async Task QueueTail_ShowsNewestFirst_AndFollowsTheSharedSample()
    {
        _state.Push(FakeQueueState.Snapshot(30) with { Head = ["1", "2"], Tail = ["28", "29", "30"] });
        var page = this.RenderWithProviders<QueueView>();
        page.WaitForAssertion(() => Assert.Contains("Tail (newest first)", page.Markup));
        // Found and clicked in one dispatch: the live page may re-render between a Find and a Click.
        await page.InvokeAsync(() => page.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Tail")).Click());

        page.WaitForAssertion(() => Assert.Equal(["30", "29", "28"],
            page.FindAll("[data-testid=queue-table] tbody tr td:nth-child(2)").Select(td => td.TextContent.Trim())));
        // Live: a task enqueued meanwhile appears on top without a click.
        _state.Push(FakeQueueState.Snapshot(31) with { Head = ["1", "2"], Tail = ["29", "30", "31"] });
        page.WaitForAssertion(() => Assert.Equal(["31", "30", "29"],
            page.FindAll("[data-testid=queue-table] tbody tr td:nth-child(2)").Select(td => td.TextContent.Trim())));
        Assert.Equal("30", page.Find("[data-testid=queue-table] tbody tr td:nth-child(1)").TextContent.Trim()); // LRANGE index, from 0
    }

    [Fact]
    public void Purge_Cancelled_RemovesNothing()
    {
        _ops.QueueLength = 4;
        _state.Push(FakeQueueState.Snapshot(4));
        var page = this.RenderWithProviders<QueueView>();
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=purge]").HasAttribute("disabled")));

        page.Act(() => page.Find("[data-testid=purge]").Click());
        page.WaitForAssertion(() => Assert.Contains("removes the 4 task(s)", page.Markup));
        page.Act(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click());

        page.WaitForAssertion(() => Assert.DoesNotContain("removes the 4 task(s)", page.Markup));
        Assert.Empty(_ops.Calls);
    }

    [Fact]
    public void DeadLetters_BadEntry_IsCorrectedBeforeRetry()
    {
        string record = QueueJson.Serialize(new DeadLetter("5,000", "not a whole number", null, 1, "w", DateTimeOffset.UtcNow));
        _ops.DeadLetters.Add(DeadLetterItem.From(record, new QueueOptions()));
        _state.Push(FakeQueueState.Snapshot(0, dead: 1));
        var page = this.RenderWithProviders<DeadLetters>();
        page.WaitForAssertion(() => Assert.Contains("Correct and retry", page.Find("[data-testid=retry]").TextContent));

        page.Act(() => page.Find("[data-testid=retry]").Click());
        page.WaitForAssertion(() => Assert.Contains("cannot run as it is", page.Markup));
        Assert.Equal("5000", page.Find("input[data-testid=corrected-iterations]").GetAttribute("value"));
        page.Act(() => page.Find("input[data-testid=corrected-iterations]").Input("5,5"));
        page.Act(() => page.Find("[data-testid=corrected-retry]").Click());
        page.WaitForAssertion(() => Assert.Contains("Iterations must be a whole number", page.Markup));
        Assert.Empty(_ops.Calls);

        page.Act(() => page.Find("input[data-testid=corrected-iterations]").Input("5500"));
        page.Act(() => page.Find("[data-testid=corrected-retry]").Click());

        page.WaitForAssertion(() => Assert.Equal([$"retry {record} 5500"], _ops.Calls));
        // The operator is told which task it runs as, to look it up.
        page.WaitForAssertion(() => Assert.Contains("Put back on the queue with 5,500 iterations, as task t-corrected", page.Markup));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are only IAsyncDisposable: the context must be disposed asynchronously.
    async Task IAsyncLifetime.DisposeAsync()
    {
        _state.Dispose();
        await DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        // Disposed through IAsyncLifetime above.
    }
}
