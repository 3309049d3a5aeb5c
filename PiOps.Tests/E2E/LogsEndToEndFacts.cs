using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>The Logs page tails the real worker processes of the embedded default while they take tasks.</summary>
[Collection(HeavyLanes.First)]
public sealed class LogsEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Logs_TailsBothWorkers_Merged_FiltersAndHighlights()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "2",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var page = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, () => RunAsync(dashboard, redis, page));
    }

    private static async Task RunAsync(DashboardProcess dashboard, IConnectionMultiplexer redis, IPage page)
    {
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/logs");
        await Assertions.Expect(page.Locator("[data-testid=log-pod]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        // What the pods wrote before the page opened is shown at once (each worker's starting line).
        await Assertions.Expect(page.Locator("[data-testid=log-line]").Filter(new() { HasText = "starting" })).ToHaveCountAsync(2, new() { Timeout = 30_000 });

        // The same two pods by label selector, as kubectl logs -l takes it; a bad one is explained and changes nothing.
        var selector = page.Locator("input[data-testid=log-selector]");
        await selector.FillAsync("pod in pi");
        await selector.PressAsync("Enter");
        await Assertions.Expect(page.GetByText("not a label requirement")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=log-pod]")).ToHaveCountAsync(2);
        await selector.FillAsync("pod=pi");
        await selector.PressAsync("Enter");
        await Assertions.Expect(page.GetByText("kubectl logs -f -l 'pod=pi'")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=log-pod]")).ToHaveCountAsync(2);

        await redis.GetDatabase().ListRightPushAsync(new QueueKeys("queue:task").Queue,
            Enumerable.Range(1, 8).Select(i => (RedisValue)(i * 100_000).ToString()).ToArray());

        var lines = page.Locator("[data-testid=log-line]");
        await Assertions.Expect(lines.Filter(new() { HasText = "got task: 800000" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        // Both pods' lines are in the one list, each named.
        IReadOnlyList<string> texts = [];
        string[] pods = [];
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                texts = await lines.AllInnerTextsAsync();
                pods = await page.Locator("[data-testid=log-pod]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.pod)");
                return pods.All(p => texts.Any(t => t.Contains(p + " ")));
            }, TimeSpan.FromSeconds(30), "lines from both pods");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: pods {string.Join(", ", pods)}; lines:\n{string.Join("\n", texts)}");
        }

        await page.Locator("input[data-testid=log-filter]").FillAsync("got task: [1-3]00000 ");
        await page.Locator("[data-testid=log-regex]").ClickAsync();
        await Assertions.Expect(lines).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("[data-testid=log-lines] mark").First).ToContainTextAsync("got task: ");
        await page.Locator("input[data-testid=log-filter]").FillAsync("got task: (");
        await Assertions.Expect(page.GetByText("Not a regular expression")).ToBeVisibleAsync();

        // From a task to the lines of the worker that ran it, around that time.
        string line = texts.First(t => t.Contains("got task: 800000"));
        string id = System.Text.RegularExpressions.Regex.Match(line, @"\(id (t-[0-9a-f]+)").Groups[1].Value;
        // Interactive first: a link clicked while the circuit starts changes the address but not the page.
        await LivePage.GoAsync(page, dashboard.BaseAddress + "/tasks?id=" + id);
        await page.Locator("[data-testid=task-logs]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=log-around]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=log-line]").Filter(new() { HasText = id })).ToHaveCountAsync(2);
    }
}
