using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.E2E;

/// <summary>
/// An operator without a mouse: Tab, Shift+Tab, Enter and typing only, never a click. Every control on the way must
/// be reachable, show its focus, and act on Enter; dialogs keep focus inside and give it back; outcomes are said in
/// the live region.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class KeyboardEndToEndFacts(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private const int MaxTabs = 120;

    [Fact]
    public async Task AnOperator_EnqueuesRerunsAJobSuspendsACronJobAndReadsATasksLogLines_WithTheKeyboardOnly()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
            ["LocalRuntime__GracePeriod"] = "00:00:10",
        });
        var page = await browser.NewPageAsync();
        await LivePage.ExplainedAsync(page, dashboard, output, async () =>
        {
            await LivePage.GoAsync(page, dashboard.BaseAddress + "/enqueue");

            // Enqueue: three tasks of 200,000 iterations.
            await TabToAsync(page, "input[data-testid=iterations]");
            await ReplaceTextAsync(page, "200000");
            await TabToAsync(page, "input[data-testid=count]");
            await ReplaceTextAsync(page, "3");
            await TabToAsync(page, "button[data-testid=enqueue]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("[data-testid=last-outcome]")).ToContainTextAsync("3 task(s) enqueued");
            await ExpectSaidAsync(page, "Enqueued 3 task(s)");
            // Done by the Deployment's worker before the Job starts, so their log lines stay while that pod does.
            await Eventually.WaitAsync(async () =>
            {
                var results = await page.APIRequest.GetAsync(dashboard.BaseAddress + "/api/results");
                return System.Text.Json.JsonDocument.Parse(await results.TextAsync()).RootElement.GetArrayLength() >= 3;
            }, TimeSpan.FromSeconds(60), "the three tasks done");

            // A Job: created, complete, re-run through its confirmation dialog.
            await FollowNavLinkAsync(page, "jobs");
            await TabToAsync(page, "button[data-testid=job-create]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("[data-testid=job-status]")).ToHaveTextAsync("Complete", new() { Timeout = 90_000 });
            await TabToAsync(page, "button[data-testid=job-rerun]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator(".mud-dialog")).ToBeVisibleAsync();
            await Eventually.WaitAsync(() => FocusIsInAsync(page, ".mud-dialog-container"), TimeSpan.FromSeconds(10), "focus inside the dialog");
            for (int i = 0; i < 6; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                Assert.True(await FocusIsInAsync(page, ".mud-dialog-container"), "Tab left the open dialog");
            }

            await TabToAsync(page, ".mud-message-box__yes-button");
            await page.Keyboard.PressAsync("Enter");
            await ExpectSaidAsync(page, "Job jobworker re-created");
            await Eventually.WaitAsync(() => FocusIsInAsync(page, "button[data-testid=job-rerun]"), TimeSpan.FromSeconds(30),
                "focus back on the Re-run button that opened the dialog");

            // A CronJob: created from the form, then suspended from its row (the table is above the form).
            await FollowNavLinkAsync(page, "cronjobs");
            await TabToAsync(page, "button[data-testid=cron-create]");
            await page.Keyboard.PressAsync("Enter");
            await LivePage.ExpectRowAsync(page, "cronjobs-table", "addwork");
            await TabToAsync(page, "button[data-testid=cron-suspend]", backwards: true);
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("[data-testid=cron-suspended]")).ToBeVisibleAsync();
            await ExpectSaidAsync(page, "suspended");

            // A task's log lines: its id in the results, then the link to its worker's lines around then.
            await FollowNavLinkAsync(page, "tasks");
            await Assertions.Expect(page.Locator("[data-testid=result-task]").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            string id = await page.Locator("[data-testid=result-task]").First.InnerTextAsync();
            await TabToAsync(page, $"a[data-testid=result-task][href=\"tasks?id={Uri.EscapeDataString(id)}\"]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("[data-testid=task-status]")).ToBeVisibleAsync();
            await TabToAsync(page, "a[data-testid=task-logs]", backwards: true);
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/logs\\?"), new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-testid=log-around]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-testid=log-line]").Filter(new() { HasText = id }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        });
    }

    /// <summary>Follows a link of the navigation drawer with Tab and Enter; the new page's title takes focus.</summary>
    private static async Task FollowNavLinkAsync(IPage page, string href)
    {
        await TabToAsync(page, $"a.mud-nav-link[href=\"{href}\"]", backwards: true);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/" + Regex.Escape(href)), new() { Timeout = 30_000 });
        await Eventually.WaitAsync(() => FocusIsInAsync(page, "h1"), TimeSpan.FromSeconds(15), $"focus on the title of {href}");
    }

    /// <summary>
    /// Presses Tab (or Shift+Tab) until the focused element matches <paramref name="selector"/>, and checks that its
    /// focus is visible. Fails after <see cref="MaxTabs"/> presses: the control cannot be reached by keyboard.
    /// </summary>
    private static async Task TabToAsync(IPage page, string selector, bool backwards = false)
    {
        var visited = new List<string>();
        for (int i = 0; i < MaxTabs; i++)
        {
            if (await FocusIsInAsync(page, selector))
            {
                Assert.True(await FocusIsVisibleAsync(page), $"{selector} has focus but shows no focus indicator");
                return;
            }

            await page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
            visited.Add(await page.EvaluateAsync<string>("() => { const e = document.activeElement; return e ? `${e.tagName} ${e.getAttribute('data-testid') ?? ''} ${e.getAttribute('aria-label') ?? e.textContent?.trim().slice(0, 30) ?? ''}` : 'none'; }"));
        }

        throw new Xunit.Sdk.XunitException($"{selector} not reached in {MaxTabs} presses of {(backwards ? "Shift+Tab" : "Tab")}; focus went through:\n{string.Join("\n", visited)}");
    }

    private static Task<bool> FocusIsInAsync(IPage page, string selector) =>
        page.EvaluateAsync<bool>("s => { const e = document.activeElement; return !!e && e !== document.body && !!e.closest(s); }", selector);

    // An outline on the element or, for switches and checkboxes, on the control around their hidden input.
    private static Task<bool> FocusIsVisibleAsync(IPage page) => page.EvaluateAsync<bool>("""
        () => {
            const e = document.activeElement;
            const ring = el => { const s = getComputedStyle(el); return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; };
            if (e.tagName === 'H1') return true;
            if (ring(e)) return true;
            const around = e.closest('.mud-button-root');
            if (around && ring(around)) return true;
            // A text field shows focus by its underline and label in the theme's colour.
            return !!e.closest('.mud-input-control') && !!e.closest('.mud-input-control').querySelector('.mud-input.mud-focused, .mud-input:focus-within');
        }
        """);

    private static async Task ReplaceTextAsync(IPage page, string text)
    {
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync(text);
    }

    /// <summary>The polite live region says <paramref name="words"/> (it speaks at most every 2 s).</summary>
    private static Task ExpectSaidAsync(IPage page, string words) =>
        Assertions.Expect(page.Locator("[data-testid=announcer][role=status][aria-live=polite]")).ToContainTextAsync(words, new() { Timeout = 15_000 });
}
