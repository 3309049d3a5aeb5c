using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>A sign-out in one tab ends the open circuits of the others, in a real browser.</summary>
[Collection(HeavyLanes.First)]
public sealed class SessionEndToEndFacts(BrowserFixture browser, RedisServer server)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;

    public async Task InitializeAsync() => _app = await SignedInApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SignOutInOneTab_AnOpenTabCannotActAnymore_AndGoesToSignIn()
    {
        var tabA = await browser.NewPageAsync();
        await tabA.GotoAsync(_app.BaseAddress + "/queue");
        await tabA.Locator("[data-testid=signin-user]").FillAsync("otto");
        await tabA.Locator("[data-testid=signin-password]").FillAsync(SignedInApp.Password);
        await tabA.Locator("[data-testid=signin-submit]").ClickAsync();
        await LivePage.WaitInteractiveAsync(tabA);
        await Assertions.Expect(tabA.Locator("[data-testid=pause]")).ToBeEnabledAsync();

        // The same browser, another tab: signs out.
        var tabB = await tabA.Context.NewPageAsync();
        tabB.SetDefaultNavigationTimeout(60_000);
        await LivePage.GoAsync(tabB, _app.BaseAddress + "/queue");
        await tabB.Locator("[data-testid=signout]").ClickAsync();
        await Assertions.Expect(tabB.Locator("[data-testid=signin-form]")).ToBeVisibleAsync();

        // The first tab, still open on its circuit, tries to act.
        try
        {
            await tabA.Locator("[data-testid=pause]").ClickAsync(new() { Timeout = 5_000 });
        }
        catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
        {
            // It had already been sent to the sign-in page, or its button disabled: it could not act either.
        }

        await Assertions.Expect(tabA.Locator("[data-testid=signin-form]")).ToBeVisibleAsync();
        Assert.False(await server.Db.KeyExistsAsync(new QueueKeys(_queue).Paused), "the signed-out tab paused the queue");
    }
}
