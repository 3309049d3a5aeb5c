using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// The palette's page script alone (piops.js in a bare page, the browser's clock in the test's hands): what is typed
/// between Ctrl+K and the box appearing is kept for that opening, and only for a bounded time.
/// </summary>
public sealed class PaletteScriptFacts(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task KeysTypedAheadOfTheBox_SurviveAnEarlierOpeningsExpiry()
    {
        var page = await OpenAsync();

        // A first opening, whose box came at once: its keep-the-keys timer is still running.
        await page.Keyboard.PressAsync("Control+k");
        Assert.Equal("", await BoxAppearsAsync(page));
        await page.FocusAsync("#elsewhere");

        // Nine seconds on, Ctrl+K and "audit" Enter typed before the box comes; the first timer ends while the second
        // opening waits for the server.
        await page.Clock.RunForAsync(9_000);
        await page.Keyboard.PressAsync("Control+k");
        await page.Keyboard.TypeAsync("audit");
        await page.Keyboard.PressAsync("Enter");
        await page.Clock.RunForAsync(2_000);

        Assert.Equal("audit", await BoxAppearsAsync(page));
        Assert.True(await page.EvaluateAsync<bool>("() => window.entered"), "the Enter typed ahead should reach the box");
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.opened"));
    }

    [Fact]
    public async Task KeysTypedAheadOfTheBox_AreDropped_WhenTheBoxNeverComesWithinTenSeconds()
    {
        var page = await OpenAsync();

        await page.Keyboard.PressAsync("Control+k");
        await page.Keyboard.TypeAsync("jobs");
        await page.Clock.RunForAsync(10_001);

        Assert.Equal("", await BoxAppearsAsync(page));
        Assert.False(await page.EvaluateAsync<bool>("() => window.entered"));
    }

    /// <summary>A bare page with piops.js, attached to a stand-in for the palette component that counts openings.</summary>
    private async Task<IPage> OpenAsync()
    {
        var page = await browser.NewPageAsync();
        await page.Clock.InstallAsync();
        await page.SetContentAsync("""
            <!DOCTYPE html><html lang="en"><body>
            <button id="elsewhere">elsewhere</button>
            <input id="box" class="piops-palette-input" aria-label="box">
            </body></html>
            """);
        await page.AddScriptTagAsync(new() { Path = Path.Combine(Repository.Root, "PiOps.Web", "wwwroot", "piops.js") });
        await page.EvaluateAsync("""
            () => {
                window.opened = 0;
                window.entered = false;
                document.getElementById("box").addEventListener("keydown", e => { if (e.key === "Enter") window.entered = true; });
                window.piopsPalette.attach({ invokeMethodAsync: () => { window.opened++; return Promise.resolve(); } });
            }
            """);
        await page.FocusAsync("#elsewhere");
        return page;
    }

    /// <summary>What the component does once its box is rendered; returns the box's text.</summary>
    private static Task<string> BoxAppearsAsync(IPage page) =>
        page.EvaluateAsync<string>("""
            () => {
                const box = document.getElementById("box");
                window.piopsPalette.focus(box);
                return box.value;
            }
            """);
}
