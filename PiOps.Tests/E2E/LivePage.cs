using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PiOps.Tests.E2E;

/// <summary>Playwright helpers for pages that re-render live.</summary>
public static class LivePage
{
    /// <summary>
    /// Navigates and waits until the page is interactive (its circuit is up and it set data-interactive), not just
    /// prerendered: a click before that lands on static HTML and does nothing.
    /// </summary>
    public static async Task GoAsync(IPage page, string url)
    {
        // What the browser said while the page loaded goes with a timeout: a circuit that never came up says why there.
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Note(object? sender, IConsoleMessage m) => console.Enqueue($"{m.Type}: {m.Text}");
        page.Console += Note;
        try
        {
            await page.GotoAsync(url);
            await WaitInteractiveAsync(page);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{url} did not turn interactive: {ex.Message}\n\npage text:\n{await TextOfAsync(page)}\n\n"
                + $"browser console:\n{string.Join("\n", console)}", ex);
        }
        finally
        {
            page.Console -= Note;
        }
    }

    /// <summary>Waits until the page is interactive, e.g. after a sign-in form posted and redirected.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        // A first load compiles and warms a dashboard process just started; on a busy two-core machine, with the other
        // test lanes' browsers and dashboards beside it, that took more than 60 s twice (2026-12-02).
        page.Locator("[data-interactive=yes]").WaitForAsync(new() { Timeout = 90_000 });

    /// <summary>
    /// Waits until a live table lists the named row. A row count is not enough: an empty table's one row ("No
    /// CronJobs…") meets it at once, and a page closed right after its click can lose that click with the circuit.
    /// </summary>
    public static Task ExpectRowAsync(IPage page, string table, string name) =>
        Assertions.Expect(page.Locator($"[data-testid={table}] tbody tr").Filter(new() { HasText = name }))
            .ToHaveCountAsync(1, new() { Timeout = 30_000 });

    /// <summary>
    /// Clicks a button in a live table (rows re-render every half second) until its confirmation dialog is open: a
    /// click can land while Playwright sees the row replaced and retries into the dialog's overlay.
    /// </summary>
    public static async Task ClickOpeningDialogAsync(IPage page, ILocator button, string dialogTitle)
    {
        // First: a click that did open one must not be repeated, or a second dialog opens over the first.
        var dialog = page.GetByText(dialogTitle).First;
        await Eventually.WaitAsync(async () =>
        {
            if (await dialog.IsVisibleAsync())
            {
                return true;
            }

            try
            {
                await button.ClickAsync(new() { Timeout = 2_000 });
                await dialog.WaitForAsync(new() { Timeout = 3_000 });
            }
            catch (TimeoutException)
            {
            }

            return await dialog.IsVisibleAsync();
        }, TimeSpan.FromSeconds(20), $"the dialog \"{dialogTitle}\"");
    }

    /// <summary>
    /// Runs a browser test's steps against a dashboard process; when a step fails, prints with the test what is needed
    /// to tell why: the page's address and text, the browser's console, and the dashboard's log. Closes the page.
    /// </summary>
    public static async Task ExplainedAsync(IPage page, DashboardProcess dashboard, ITestOutputHelper output, Func<Task> steps)
    {
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, m) => console.Enqueue($"{m.Type}: {m.Text}");
        try
        {
            await steps();
        }
        catch
        {
            output.WriteLine($"page {page.Url}:\n{await TextOfAsync(page)}\n\nbrowser console:\n{string.Join("\n", console)}\n\n"
                + $"dashboard log:\n{dashboard.Output}");
            throw;
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    /// <summary>The page's text for a failure message, or why it could not be read.</summary>
    private static async Task<string> TextOfAsync(IPage page)
    {
        try
        {
            return await page.Locator("body").InnerTextAsync(new() { Timeout = 5_000 });
        }
        catch (PlaywrightException ex)
        {
            return $"(could not be read: {ex.Message})";
        }
    }
}
