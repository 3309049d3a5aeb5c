using System.Text;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.E2E;

/// <summary>
/// axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) over every page the navigation links to, in light and dark mode,
/// on one dashboard with something in every table: results, dead letters, a Job with its events open, a CronJob, audit
/// rows, log lines and a task's status; then the same pages at 320 CSS pixels wide. docs/accessibility.md says what
/// else was checked and how.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class AccessibilityEndToEndFacts(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>The rule sets of WCAG 2.2 A and AA as axe tags them (each version's tag holds only the rules it added).</summary>
    public static readonly string[] WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

    [Fact]
    public async Task EveryPage_HasNoSeriousOrCriticalAxeViolation_InLightAndDarkMode_AndReflowsAt320Pixels()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "2",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        var setup = await browser.NewPageAsync();
        string taskId = "";
        await LivePage.ExplainedAsync(setup, dashboard, output, async () =>
        {
            taskId = await SeedAsync(setup, dashboard);
        });

        // Each page with what must be on it before it is scanned: the rows the scan is about, not an empty table.
        (string Path, string Ready)[] pages =
        [
            ("/", "[data-testid=depth-chart] svg"),
            ("/enqueue", "[data-testid=enqueue]"),
            ("/queue", "[data-testid=queue-table]"),
            ($"/tasks?id={taskId}", "[data-testid=task-attempt] >> nth=0"),
            ("/dead-letters", "[data-testid=retry] >> nth=0"),
            ("/workers", "[data-testid=workers-table] tbody tr >> nth=0"),
            ("/jobs?job=jobworker", "[data-testid=job-details]"),
            ("/cronjobs", "[data-testid=cron-run-now] >> nth=0"),
            ("/autoscaling", "[data-testid=replicas-chart] svg"),
            ("/logs", "[data-testid=log-line] >> nth=0"),
            ("/audit", "[data-testid=audit-when] >> nth=0"),
            ("/settings", "[data-testid=tokens-table]"),
        ];
        var found = new List<string>();
        var report = new StringBuilder();
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            var context = await browser.Browser.NewContextAsync(new() { ColorScheme = scheme, ViewportSize = new() { Width = 1280, Height = 900 } });
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(30_000);
            page.SetDefaultNavigationTimeout(60_000);
            await LivePage.ExplainedAsync(page, dashboard, output, async () =>
            {
                foreach (var (path, ready) in pages)
                {
                    await LivePage.GoAsync(page, dashboard.BaseAddress + path);
                    await WaitSchemeAsync(page, scheme == ColorScheme.Dark);
                    await page.Locator(ready).WaitForAsync(new() { Timeout = 60_000 });
                    // Colours fade from the light theme's to the dark one's: a scan mid-fade measures neither.
                    await Eventually.WaitAsync(() => page.EvaluateAsync<bool>(
                            "() => document.getAnimations().every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"),
                        TimeSpan.FromSeconds(15), $"{path}'s colour transitions to end");
                    var result = await page.RunAxe(new AxeRunOptions { RunOnly = RunOnlyOptions.Tags(WcagTags), ResultTypes = [Deque.AxeCore.Commons.ResultType.Violations] });
                    string where = $"{path} ({scheme.ToString().ToLowerInvariant()})";
                    foreach (var violation in result.Violations)
                    {
                        foreach (var node in violation.Nodes)
                        {
                            string line = $"{where}: {violation.Id} [{node.Impact ?? violation.Impact}] {node.Target} — {Explain(node)}\n    {Shorten(node.Html)}";
                            report.AppendLine(line);
                            if ((node.Impact ?? violation.Impact) is "serious" or "critical")
                            {
                                found.Add(line);
                            }
                        }
                    }
                }
            });
            await context.CloseAsync();
        }

        // 320 CSS pixels wide (1280 at 400 % zoom, WCAG 1.4.10): no page scrolls sideways and the app bar's controls
        // stay on screen. Tables and the log pane may scroll inside themselves, as the criterion allows.
        var narrow = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 320, Height = 640 } });
        var small = await narrow.NewPageAsync();
        small.SetDefaultNavigationTimeout(60_000);
        await LivePage.ExplainedAsync(small, dashboard, output, async () =>
        {
            foreach (var (path, ready) in pages)
            {
                await LivePage.GoAsync(small, dashboard.BaseAddress + path);
                await small.Locator(ready).WaitForAsync(new() { Timeout = 60_000 });
                string overflow = await small.EvaluateAsync<string>("""
                    () => {
                        const width = document.documentElement.clientWidth;
                        const out = [...document.querySelectorAll('[data-testid=theme-toggle], [data-testid=time-zone], [data-testid=redis-chip]')]
                            .filter(e => e.getBoundingClientRect().right > width + 1).map(e => e.getAttribute('data-testid'));
                        return document.documentElement.scrollWidth > width + 1 ? `page ${document.documentElement.scrollWidth} px wide` : out.join(', ');
                    }
                    """);
                if (overflow.Length > 0)
                {
                    found.Add($"{path} at 320 px: {overflow}");
                }
            }
        });
        await narrow.CloseAsync();

        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "axe-report.txt"), report.ToString());
        output.WriteLine(report.Length == 0 ? "axe found no violation at all" : report.ToString());
        Assert.True(found.Count == 0, $"{found.Count} serious or critical violation(s) or overflow(s):\n{string.Join("\n", found)}");
    }

    /// <summary>
    /// Something in every table: results (some of them failed into dead letters), a Job, a CronJob and their audit
    /// rows, log lines from two worker pods. Returns the id of a task that ran, for its status page.
    /// </summary>
    private static async Task<string> SeedAsync(IPage page, DashboardProcess dashboard)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var keys = new QueueKeys("queue:task");
        // Entries the workers cannot read end as dead letters; the others as results.
        await redis.GetDatabase().ListRightPushAsync(keys.Queue, ["1000000", "2000000", "5,000", "-3", "pi please"]);
        var created = await page.APIRequest.PostAsync(dashboard.BaseAddress + "/api/tasks", new() { DataObject = new { iterations = 1000, count = 3 } });
        Assert.Equal(201, created.Status);
        using var outcome = JsonDocument.Parse(await created.TextAsync());
        string id = outcome.RootElement.GetProperty("ids")[0].GetString()!;

        await LivePage.GoAsync(page, dashboard.BaseAddress + "/jobs");
        await page.Locator("[data-testid=job-create]").ClickAsync();
        await LivePage.ExpectRowAsync(page, "jobs-table", "jobworker");
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/cronjobs");
        await page.Locator("[data-testid=cron-create]").ClickAsync();
        await LivePage.ExpectRowAsync(page, "cronjobs-table", "addwork");

        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(keys.DeadLetters) > 0,
            TimeSpan.FromSeconds(60), "a dead letter");
        await Eventually.WaitAsync(async () =>
        {
            var status = await page.APIRequest.GetAsync(dashboard.BaseAddress + "/api/tasks/" + id);
            return status.Ok && (await status.TextAsync()).Contains("\"done\"", StringComparison.OrdinalIgnoreCase);
        }, TimeSpan.FromSeconds(60), $"task {id} done");
        return id;
    }

    private static string Explain(AxeResultNode node) =>
        string.Join("; ", (node.Any ?? []).Concat(node.All ?? []).Concat(node.None ?? []).Select(c => c.Message).Where(m => !string.IsNullOrEmpty(m)));

    private static string Shorten(string? html) => html is null ? "" : html.Length <= 200 ? html : html[..200] + "…";

    // The layout reads the system's scheme after its first render: scanning before that would scan the other theme.
    private static Task WaitSchemeAsync(IPage page, bool dark) => Eventually.WaitAsync(async () =>
    {
        string color = await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
        var rgb = color[(color.IndexOf('(') + 1)..color.IndexOf(')')].Split(',').Take(3).Select(v => int.Parse(v.Trim())).ToArray();
        return (rgb.Average() < 100) == dark;
    }, TimeSpan.FromSeconds(15), $"a {(dark ? "dark" : "light")} background");
}
