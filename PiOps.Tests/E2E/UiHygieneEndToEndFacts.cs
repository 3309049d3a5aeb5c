using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>What an operator notices in the first minute: requests that fail, and a theme that forgets their choice.</summary>
[Collection(HeavyLanes.First)]
public sealed class UiHygieneEndToEndFacts(BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly string[] Pages = ["/", "/enqueue", "/queue", "/tasks", "/dead-letters", "/workers", "/jobs", "/cronjobs", "/autoscaling", "/logs", "/audit", "/settings"];

    [Fact]
    public async Task EveryPage_LoadsWithoutAFailedRequest_FaviconIncluded()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string> { ["LocalRuntime__InitialReplicas"] = "0" });
        var page = await browser.NewPageAsync();
        var failed = new List<string>();
        page.Response += (_, r) =>
        {
            if (r.Status >= 400)
            {
                lock (failed)
                {
                    failed.Add($"{r.Status} {r.Url}");
                }
            }
        };
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            foreach (var path in Pages)
            {
                await LivePage.GoAsync(page, dashboard.BaseAddress + path);
            }

            // The icon the browser shows in its tab is served.
            string icon = await page.Locator("link[rel=icon]").GetAttributeAsync("href") ?? "";
            var response = await page.APIRequest.GetAsync(dashboard.BaseAddress + "/" + icon.TrimStart('/'));
            Assert.Equal(200, response.Status);
        });
        lock (failed)
        {
            Assert.True(failed.Count == 0, "failed requests: " + string.Join(", ", failed));
        }
    }

    [Fact]
    public async Task ThemeToggle_IsRemembered_AcrossReloads_OverTheSystemsScheme()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string> { ["LocalRuntime__InitialReplicas"] = "0" });
        var context = await browser.Browser.NewContextAsync(new() { ColorScheme = ColorScheme.Light });
        var page = await context.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/");
            await WaitBackgroundAsync(page, dark: false);

            await page.Locator("[data-testid=theme-toggle]").ClickAsync();
            await WaitBackgroundAsync(page, dark: true);
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/jobs");
            await WaitBackgroundAsync(page, dark: true);

            await page.Locator("[data-testid=theme-toggle]").ClickAsync();
            await WaitBackgroundAsync(page, dark: false);
            await page.ReloadAsync();
            await LivePage.WaitInteractiveAsync(page);
            await WaitBackgroundAsync(page, dark: false);
        });
        await context.CloseAsync();
    }

    [Fact]
    public async Task Times_AreInTheBrowsersZone_NamedInTheAppBar_WithARememberedUtcSetting()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string> { ["LocalRuntime__InitialReplicas"] = "0" });
        var context = await browser.Browser.NewContextAsync(new() { TimezoneId = "America/New_York", ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            var created = await page.APIRequest.PostAsync(dashboard.BaseAddress + "/api/tasks", new() { DataObject = new { iterations = 1000 } });
            Assert.Equal(201, created.Status);
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/audit");
            var chip = page.Locator("[data-testid=time-zone]");
            var when = page.Locator("[data-testid=audit-when]").First;
            string offset = TimeZoneInfo.FindSystemTimeZoneById("America/New_York").GetUtcOffset(DateTimeOffset.UtcNow).ToString(@"hh\:mm");
            await Assertions.Expect(chip).ToContainTextAsync($"America/New_York (UTC-{offset})");
            var local = DateTime.Parse(await when.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
            // The row's tooltip carries the same instant in UTC.
            var utc = DateTimeOffset.Parse(await when.GetAttributeAsync("title") ?? "", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(TimeZoneInfo.ConvertTime(utc, TimeZoneInfo.FindSystemTimeZoneById("America/New_York")).DateTime, local);

            await chip.ClickAsync();
            await Assertions.Expect(chip).ToHaveTextAsync("UTC");
            await Assertions.Expect(when).ToHaveTextAsync(utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
            await page.ReloadAsync();
            await LivePage.WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=time-zone]")).ToHaveTextAsync("UTC");
        });
        await context.CloseAsync();
    }

    [Fact]
    public async Task DeepLinks_TheLogsFilterAndTheOpenJob_AreInTheAddress_AndOpenAsSent()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        var page = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            // A link as an operator would paste it: the page opens with its filter.
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/logs?target=deployment/pi-worker&filter=starting");
            await Assertions.Expect(page.Locator("input[data-testid=log-filter]")).ToHaveValueAsync("starting");
            await Assertions.Expect(page.Locator("[data-testid=log-line]").Filter(new() { HasText = "starting" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await page.Locator("input[data-testid=log-filter]").FillAsync("worker");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("filter=worker"), new() { Timeout = 15_000 });

            // The Job whose events are open.
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/jobs");
            await page.Locator("[data-testid=job-create]").ClickAsync();
            await LivePage.ExpectRowAsync(page, "jobs-table", "jobworker");
            await page.Locator("[data-testid=job-details-toggle]").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("job=jobworker"), new() { Timeout = 15_000 });
            await page.ReloadAsync();
            await LivePage.WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=job-details]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        });
    }

    private static Task WaitBackgroundAsync(IPage page, bool dark) => Eventually.WaitAsync(async () =>
    {
        string color = await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
        var rgb = color[(color.IndexOf('(') + 1)..color.IndexOf(')')].Split(',').Take(3).Select(v => int.Parse(v.Trim())).ToArray();
        return (rgb.Average() < 100) == dark;
    }, TimeSpan.FromSeconds(15), $"a {(dark ? "dark" : "light")} background");
}
