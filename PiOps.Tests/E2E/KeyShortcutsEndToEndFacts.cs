using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.E2E;

/// <summary>
/// Keys an operator uses all day. The command palette, as an operator uses it many times in a row: Ctrl+K from any page (a text box included), type,
/// arrows, Enter; Esc gives focus back. Each opening must work as the first did.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class KeyShortcutsEndToEndFacts(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task CtrlK_GoesToPagesPodsAndTasks_OpeningAfterOpening_AndEscGivesFocusBack()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
        });
        var context = await browser.Browser.NewContextAsync(new() { ColorScheme = ColorScheme.Dark, ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var input = page.Locator("[data-testid=palette-input]");
        var options = page.Locator("[data-testid=palette-option]");
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/");
            await Assertions.Expect(page.Locator("[data-testid=palette-open]")).ToBeVisibleAsync();

            // A page, by part of its name.
            await OpenAsync(page);
            await page.Keyboard.TypeAsync("cronj");
            await Assertions.Expect(options.First).ToContainTextAsync("CronJobs");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/cronjobs$"));
            await Assertions.Expect(page.Locator("[data-testid=palette]")).ToHaveCountAsync(0);

            // Again, from inside a text box of the new page: a pod's logs, chosen with the arrow keys.
            await page.Locator("input").First.FocusAsync();
            await OpenAsync(page);
            await Assertions.Expect(input).ToHaveValueAsync("");
            await page.Keyboard.TypeAsync("pi-worker");
            await Assertions.Expect(options.Filter(new() { HasText = "Pod logs" })).Not.ToHaveCountAsync(0, new() { Timeout = 60_000 });
            Assert.Equal("Deployment", (await options.First.Locator(".piops-palette-kind").InnerTextAsync()).Trim());
            await page.Keyboard.PressAsync("ArrowDown");
            await Assertions.Expect(input).ToHaveAttributeAsync("aria-activedescendant", "piops-palette-1");
            await Assertions.Expect(options.Nth(1)).ToHaveAttributeAsync("aria-selected", "true");
            string pod = (await options.Nth(1).Locator(".piops-palette-label").InnerTextAsync()).Trim();
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/logs\\?target=pod%2F" + Regex.Escape(pod) + "$"));

            // Esc closes it and gives focus back to what had it.
            var toggle = page.Locator("[data-testid=theme-toggle]");
            await toggle.FocusAsync();
            await OpenAsync(page);
            // The open palette in dark mode at 1280x800: axe finds nothing serious in it.
            var axe = await page.RunAxe(new AxeRunOptions { ResultTypes = [ResultType.Violations] });
            var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical")
                .SelectMany(v => v.Nodes.Where(n => n.Target.ToString().Contains("palette")).Select(n => $"{v.Id}: {n.Html}")).ToList();
            Assert.True(serious.Count == 0, string.Join("\n", serious));
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.Locator("[data-testid=palette]")).ToHaveCountAsync(0);
            await Eventually.WaitAsync(() => page.EvaluateAsync<bool>("() => document.activeElement?.getAttribute('data-testid') === 'theme-toggle'"),
                TimeSpan.FromSeconds(10), "focus back on the theme toggle");

            // Typed in one go, before the box can appear (all keys in one turn of the page's event loop, as a fast typist
            // on a busy server): nothing typed before it appears is lost, Enter included.
            await page.Locator("html[data-palette=ready]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
            await page.EvaluateAsync("""
                () => {
                    const press = (key, ctrl) => document.activeElement.dispatchEvent(
                        new KeyboardEvent("keydown", { key, ctrlKey: !!ctrl, bubbles: true, cancelable: true }));
                    press("k", true);
                    for (const c of "audit") press(c);
                    press("Enter");
                }
                """);
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/audit$"));

            // Any id-shaped text is a task to look up; nothing found says so.
            await OpenAsync(page);
            await page.Keyboard.TypeAsync("no such thing");
            await Assertions.Expect(page.Locator("[data-testid=palette-empty]")).ToContainTextAsync("Nothing here matches");
            await page.Keyboard.PressAsync("Control+A");
            await page.Keyboard.TypeAsync("t-0123abcd");
            await Assertions.Expect(options.First).ToContainTextAsync("Look up task t-0123abcd");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/tasks\\?id=t-0123abcd$"));
        });
        await context.CloseAsync();
    }

    [Fact]
    public async Task RowKeys_PressTheRowsOwnButtons_AndKeysTypedInAFieldAreTheFields()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "0",
        });
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            // A Job: d asks to delete it (Esc says no), l opens its logs.
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/jobs");
            await page.Locator("[data-testid=job-create]").ClickAsync();
            var name = page.Locator("[data-testid=job-row-name]").First;
            await name.WaitForAsync();
            string job = (await name.InnerTextAsync()).Trim();
            await Assertions.Expect(page.Locator("[data-testid=jobs-keys]")).ToContainTextAsync("d delete");

            // Typed into a text field, the same key is just a letter.
            var field = page.GetByLabel("Parallelism");
            await field.FocusAsync();
            await page.Keyboard.PressAsync("d");
            await Assertions.Expect(page.Locator(".mud-dialog")).ToHaveCountAsync(0);

            await name.FocusAsync();
            await page.Keyboard.PressAsync("d");
            await Assertions.Expect(page.Locator(".mud-dialog")).ToContainTextAsync(job);
            await Eventually.WaitAsync(() => page.EvaluateAsync<bool>("() => !!document.activeElement?.closest('.mud-dialog-container')"),
                TimeSpan.FromSeconds(10), "focus inside the dialog");
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.Locator(".mud-dialog")).ToHaveCountAsync(0);
            await Assertions.Expect(name).ToHaveTextAsync(job);

            await name.FocusAsync();
            await page.Keyboard.PressAsync("l");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/logs\\?target=job%2F" + Regex.Escape(job) + "$"));

            // "/" goes to the page's filter (once the new page has put focus on its title, as each page change does).
            await Eventually.WaitAsync(() => page.EvaluateAsync<bool>("() => document.activeElement?.tagName === 'H1'"),
                TimeSpan.FromSeconds(15), "focus on the Logs page's title");
            await page.Keyboard.PressAsync("/");
            await Eventually.WaitAsync(() => page.EvaluateAsync<bool>("() => document.activeElement?.getAttribute('data-testid') === 'log-filter'"),
                TimeSpan.FromSeconds(10), "focus on the Logs filter");
            await Assertions.Expect(page.Locator("input[data-testid=log-filter]")).ToHaveValueAsync("");

            // A CronJob: s suspends it, s again resumes it.
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/cronjobs");
            await page.Locator("[data-testid=cron-create]").ClickAsync();
            var cron = page.Locator("[data-testid=cron-row-name]").First;
            await cron.WaitForAsync();
            await cron.FocusAsync();
            await page.Keyboard.PressAsync("s");
            await Assertions.Expect(page.Locator("[data-testid=cron-suspended]")).ToBeVisibleAsync();
            await cron.FocusAsync();
            await page.Keyboard.PressAsync("s");
            await Assertions.Expect(page.Locator("[data-testid=cron-suspended]")).ToHaveCountAsync(0);
        });
        await context.CloseAsync();
    }

    /// <summary>Ctrl+K once (after the page's script listens for it), and the palette's box has focus.</summary>
    private static async Task OpenAsync(IPage page)
    {
        await page.Locator("html[data-palette=ready]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await page.Keyboard.PressAsync("Control+k");
        var input = page.Locator("[data-testid=palette-input]");
        await input.WaitForAsync();
        await Eventually.WaitAsync(() => input.EvaluateAsync<bool>("e => e === document.activeElement"), TimeSpan.FromSeconds(15),
            "the palette's box to have focus");
    }
}
