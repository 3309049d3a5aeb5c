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
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{dashboard.GarnetPort}");
        var keys = new QueueKeys("queue:task");
        await redis.GetDatabase().ListRightPushAsync(keys.Queue, ["100000", "200000", "300000"]);
        await Eventually.WaitAsync(async () => await redis.GetDatabase().ListLengthAsync(keys.Results) == 3,
            TimeSpan.FromSeconds(60), $"the dashboard's own workers to do the tasks\n{dashboard.Output}");

        var page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.BaseAddress + "/workers");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
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
