using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// Every table shows each row's name and its actions together, without sideways scrolling, at 1280x800 and up, in
/// light and dark: an operator must see which Job they are about to delete.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class TableLayoutEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly (string Path, string Table)[] Tables =
    [
        ("/jobs", "jobs-table"),
        ("/cronjobs", "cronjobs-table"),
        ("/workers", "pods-table"),
        ("/workers", "workers-table"),
        ("/dead-letters", "dead-table"),
        ("/tasks", "results-table"),
    ];

    [Fact]
    public async Task Tables_ShowNameAndActionsTogether_At1280And1440_LightAndDark()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "2",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var keys = new QueueKeys("queue:task");
        // Rows in every table: results, dead letters (bad input), a Job and a CronJob with long names.
        await redis.GetDatabase().ListRightPushAsync(keys.Queue, ["100000", "not-a-number", "200000", "-5"]);
        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(keys.Results) >= 2
                                               && await redis.GetDatabase().ListLengthAsync(keys.DeadLetters) >= 2,
            TimeSpan.FromSeconds(60), $"results and dead letters\n{dashboard.Output}");

        var setup = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(setup, dashboard, output, async () =>
        {
            await LivePage.GoAsync(setup, dashboard.BaseAddress + "/jobs");
            await setup.Locator("input[data-testid=job-name]").FillAsync("drain-the-queue-for-the-nightly-report");
            await setup.Locator("[data-testid=job-create]").ClickAsync();
            await LivePage.ExpectRowAsync(setup, "jobs-table", "drain-the-queue-for-the-nightly-report");
            await LivePage.GoAsync(setup, dashboard.BaseAddress + "/cronjobs");
            await setup.Locator("input[data-testid=cron-name]").FillAsync("add-work-every-five-minutes-for-reports");
            await setup.Locator("[data-testid=cron-create]").ClickAsync();
            await LivePage.ExpectRowAsync(setup, "cronjobs-table", "add-work-every-five-minutes-for-reports");
        });

        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            foreach (var (width, height) in new[] { (1280, 800), (1440, 900) })
            {
                var context = await browser.Browser.NewContextAsync(new() { ColorScheme = scheme, ViewportSize = new() { Width = width, Height = height } });
                var page = await context.NewPageAsync();
                page.SetDefaultNavigationTimeout(60_000);
                await LivePage.ExplainedAsync(page, dashboard, output, async () =>
                {
                    foreach (var (path, table) in Tables)
                    {
                        await LivePage.GoAsync(page, dashboard.BaseAddress + path);
                        var row = page.Locator($"[data-testid={table}] tbody tr").First;
                        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 30_000 });
                        await AssertRowFitsAsync(page, table, width, $"{path} {table} at {width}x{height} ({scheme})");
                        // A cron expression read across two lines ("*/5 * * *" over "*") is misread.
                        if (table == "cronjobs-table")
                        {
                            int lines = await row.Locator("td code").First.EvaluateAsync<int>("c => c.getClientRects().length");
                            Assert.True(lines == 1, $"the schedule wraps over {lines} lines at {width}x{height} ({scheme})");
                        }
                    }
                });
                await context.CloseAsync();
            }
        }
    }

    /// <summary>The row's first cell (its name) and last cell (its actions) are both inside the viewport and the table's own box.</summary>
    private static async Task AssertRowFitsAsync(IPage page, string table, int width, string where)
    {
        var fit = await page.Locator($"[data-testid={table}]").EvaluateAsync<double[]>("""
            t => {
                const row = t.querySelector('tbody tr');
                const cells = row.querySelectorAll('td');
                const first = cells[0].getBoundingClientRect(), last = cells[cells.length - 1].getBoundingClientRect();
                const scroller = t.querySelector('.mud-table-container') || t;
                return [first.left, first.right, last.left, last.right, scroller.scrollWidth - scroller.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth];
            }
            """);
        string facts = $"{where}: name cell {fit[0]:F0}-{fit[1]:F0}, actions cell {fit[2]:F0}-{fit[3]:F0}, table overflow {fit[4]:F0} px, page overflow {fit[5]:F0} px";
        Assert.True(fit[0] >= 0 && fit[1] <= width, "name off-screen: " + facts);
        Assert.True(fit[2] >= 0 && fit[3] <= width, "actions off-screen: " + facts);
        Assert.True(fit[4] <= 1, "the table scrolls sideways: " + facts);
        Assert.True(fit[5] <= 1, "the page scrolls sideways: " + facts);
    }
}
