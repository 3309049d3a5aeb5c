using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;

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
        await page.GotoAsync(url);
        await WaitInteractiveAsync(page);
    }

    /// <summary>Waits until the page is interactive, e.g. after a sign-in form posted and redirected.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        // A first load compiles and warms the dashboard; on a busy two-core machine it can be slow.
        page.Locator("[data-interactive=yes]").WaitForAsync(new() { Timeout = 60_000 });

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
}
