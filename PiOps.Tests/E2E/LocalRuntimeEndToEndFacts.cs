using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// The dashboard as `dotnet run` starts it runs the book's two workers itself; they take tasks, scale from the page,
/// and do not outlive a killed dashboard.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class LocalRuntimeEndToEndFacts(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Dashboard_RunsTwoWorkers_ScalesFromThePage_AndTheyStopWithIt()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "2",
            ["LocalRuntime__GracePeriod"] = "00:00:15",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var keys = new QueueKeys("queue:task");
        await redis.GetDatabase().ListRightPushAsync(keys.Queue, ["100000", "200000", "300000"]);
        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(keys.Results) == 3,
            TimeSpan.FromSeconds(60), $"the dashboard's own workers to do the tasks\n{dashboard.Output}");

        var page = await browser.NewPageAsync();
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/workers");
        await Assertions.Expect(page.Locator("[data-testid=replicas]")).ToContainTextAsync("2 / 2 ready");
        await page.Locator("input[data-testid=scale-replicas]").FillAsync("3");
        await page.Locator("[data-testid=scale]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=replicas]")).ToContainTextAsync("3 / 3 ready", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=pods-table] tbody tr")).ToHaveCountAsync(3);
        await page.Locator("input[data-testid=scale-replicas]").FillAsync("many");
        await page.Locator("[data-testid=scale]").ClickAsync();
        await Assertions.Expect(page.GetByText("Replicas must be a whole number")).ToBeVisibleAsync();

        var pids = (await page.Locator("[data-testid=pods-table] tbody tr td:last-child").AllInnerTextsAsync())
            .Select(t => int.Parse(t.Split('/').Last().Trim())).ToList();
        Assert.Equal(3, pids.Count);
        await dashboard.KillAsync(); // SIGKILL: no chance to stop its children

        await Eventually.WaitAsync(() => pids.All(pid => !PiOps.Shared.Processes.PosixSignals.IsAlive(pid)),
            TimeSpan.FromSeconds(30), "the workers to stop once the dashboard is gone");
    }
}

/// <summary>Jobs from the browser on the local runtime: create from a template, re-run, delete.</summary>
[Collection(HeavyLanes.First)]
public sealed class JobsEndToEndFacts(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Jobs_CreateFromTemplate_Rerun_AndDelete()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var queue = new QueueKeys("queue:task").Queue;
        var page = await browser.NewPageAsync();
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/jobs");

        await page.Locator("[data-testid=job-template]").ClickAsync();
        await page.GetByText("Add work (listing 10.9)").ClickAsync();
        await Assertions.Expect(page.Locator("input[data-testid=job-name]")).ToHaveValueAsync("addwork");
        await Assertions.Expect(page.Locator("[data-testid=job-yaml]")).ToContainTextAsync("- add-tasks");
        await Assertions.Expect(page.Locator("[data-testid=job-yaml]")).ToContainTextAsync("- \"10\"");
        await page.Locator("input[data-testid=job-name]").FillAsync("Add_Work");
        await page.Locator("[data-testid=job-create]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=job-errors]")).ToContainTextAsync("DNS-1123");

        await page.Locator("input[data-testid=job-name]").FillAsync("addwork");
        await page.Locator("[data-testid=job-create]").ClickAsync();
        var row = page.Locator("[data-testid=jobs-table] tbody tr").Filter(new() { HasText = "addwork" });
        await Assertions.Expect(row.Locator("[data-testid=job-status]")).ToHaveTextAsync("Complete", new() { Timeout = 60_000 });
        Assert.Equal(10, await redis.GetDatabase().ListLengthAsync(queue));

        await LivePage.ClickOpeningDialogAsync(page, row.Locator("[data-testid=job-rerun]"), "Re-run addwork?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Re-run" }).ClickAsync();
        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(queue) == 20, TimeSpan.FromSeconds(60),
            "the re-run to add ten more tasks");
        await Assertions.Expect(row.Locator("[data-testid=job-status]")).ToHaveTextAsync("Complete", new() { Timeout = 60_000 });

        await LivePage.ClickOpeningDialogAsync(page, row.Locator("[data-testid=job-delete]"), "Delete addwork?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=jobs-table]")).ToContainTextAsync("No Jobs.", new() { Timeout = 30_000 });
    }
}
