using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>CronJobs from the browser on the local runtime: preview, create, run now, suspend, edit, delete.</summary>
[Collection(HeavyLanes.First)]
public sealed class CronJobsEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task CronJobs_PreviewCreateRunNowSuspendEditAndDelete()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var queue = new QueueKeys("queue:task").Queue;
        var page = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, () => RunAsync(dashboard, redis, queue, page));
    }

    private static async Task RunAsync(DashboardProcess dashboard, IConnectionMultiplexer redis, RedisKey queue, IPage page)
    {
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/cronjobs");

        // The schedule preview follows what is typed: words, the next five runs, or why it is wrong.
        await Assertions.Expect(page.Locator("[data-testid=cron-words]")).ToContainTextAsync("every 5 minutes");
        await Assertions.Expect(page.Locator("[data-testid=cron-next] li")).ToHaveCountAsync(5);
        var schedule = page.Locator("input[data-testid=cron-schedule]");
        await schedule.FillAsync("61 * * * *");
        await Assertions.Expect(page.Locator("[data-testid=cron-schedule-error]")).ToContainTextAsync("not a valid schedule");
        await page.Locator("[data-testid=cron-create]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=cron-errors]")).ToContainTextAsync("not a valid schedule");
        await schedule.FillAsync("@yearly");
        await page.Locator("input[data-testid=cron-zone]").FillAsync("Europe/Paris");
        await Assertions.Expect(page.Locator("[data-testid=cron-words]")).ToContainTextAsync("every year on 1 January at 00:00 (Europe/Paris)");
        await Assertions.Expect(page.Locator("[data-testid=cron-next] li").First).ToContainTextAsync("-01-01 00:00 +01:00");
        await Assertions.Expect(page.Locator("[data-testid=cron-yaml]")).ToContainTextAsync("timeZone: Europe/Paris");

        await page.Locator("[data-testid=cron-create]").ClickAsync();
        var row = page.Locator("[data-testid=cronjobs-table] tbody tr").Filter(new() { HasText = "addwork" });
        await Assertions.Expect(row).ToContainTextAsync("every year on 1 January at 00:00");

        // Run now: a Job from the template, at once, whatever the schedule.
        await row.Locator("[data-testid=cron-run-now]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=cron-job]")).ToContainTextAsync("addwork-manual-", new() { Timeout = 30_000 });
        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(queue) == 10, TimeSpan.FromSeconds(60),
            "the manual run to add the book's ten tasks");

        await row.Locator("[data-testid=cron-suspend]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=cron-suspended]")).ToBeVisibleAsync();
        await Assertions.Expect(row).ToContainTextAsync("suspended");
        await Assertions.Expect(row.Locator("[data-testid=cron-suspend]")).ToHaveTextAsync("Resume");

        await row.Locator("[data-testid=cron-edit]").ClickAsync();
        await schedule.FillAsync("*/10 * * * *");
        await page.Locator("[data-testid=cron-save]").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("every 10 minutes");
        await Assertions.Expect(row.Locator("[data-testid=cron-suspended]")).ToBeVisibleAsync();

        await LivePage.ClickOpeningDialogAsync(page, row.Locator("[data-testid=cron-delete]"), "Delete addwork?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=cronjobs-table]")).ToContainTextAsync("No CronJobs.", new() { Timeout = 30_000 });
        // Its Job went with it.
        await page.GotoAsync(dashboard.BaseAddress + "/jobs");
        await Assertions.Expect(page.Locator("[data-testid=jobs-table]")).ToContainTextAsync("No Jobs.", new() { Timeout = 30_000 });
    }
}
