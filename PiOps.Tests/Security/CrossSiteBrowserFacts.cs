using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// A page of another origin (another port of 127.0.0.1: same site, so the SameSite=Lax cookie still goes) tries to act
/// through the operator's real browser: fetches, form posts and a WebSocket to the hub. The dashboard refuses them all
/// and nothing changes.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class CrossSiteBrowserFacts(BrowserFixture browser, RedisServer server)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private WebApplication _site = default!;
    private string _siteAddress = "";
    private string _dashboard = "";

    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync()
    {
        // The other site: a page per attack, each naming the dashboard's address given in ?d=.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _site = builder.Build();
        _site.MapGet("/{attack}", (string attack, string d) => Results.Content(Page(attack, d), "text/html; charset=utf-8"));
        await _site.StartAsync();
        _siteAddress = _site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync() => await _site.DisposeAsync();

    private static string Page(string attack, string d) => attack switch
    {
        "fetch" => $$"""
            <!DOCTYPE html><html><body><script>
            window.results = {};
            (async () => {
              const r = window.results;
              try { await fetch('{{d}}/api/dead-letters/retry', { method: 'POST', mode: 'no-cors', credentials: 'include' }); r.retry = 'sent'; }
              catch (e) { r.retry = 'error ' + e; }
              try { await fetch('{{d}}/api/tasks', { method: 'POST', mode: 'no-cors', credentials: 'include',
                      headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ iterations: 10, count: 5 }) }); r.enqueue = 'sent'; }
              catch (e) { r.enqueue = 'error ' + e; }
              r.hub = await new Promise(resolve => {
                let got = '';
                const ws = new WebSocket('{{d.Replace("http://", "ws://")}}/hubs/queue');
                ws.onopen = () => ws.send('{"protocol":"json","version":1}\u001e{"type":4,"invocationId":"1","target":"StreamStats","arguments":[]}\u001e');
                ws.onmessage = e => { got += e.data; if (got.includes('"type":2')) { ws.close(); resolve('read: ' + got); } };
                ws.onerror = () => resolve('error ' + got);
                ws.onclose = e => resolve('closed ' + e.code + ' ' + got);
              });
              r.done = true;
            })();
            </script></body></html>
            """,
        "form-retry" => Form($"{d}/api/dead-letters/retry", "", ""),
        // The classic way round a JSON API: a text/plain form whose one field makes the body valid JSON.
        "form-enqueue" => Form($"{d}/api/tasks", "text/plain", """<input name='{"iterations": 10, "count": 5, "x": "' value='"}'>"""),
        "form-signout" => Form($"{d}/signout", "", ""),
        _ => "unknown attack",
    };

    private static string Form(string action, string enctype, string fields) =>
        $"""
        <!DOCTYPE html><html><body>
        <form id="f" method="post" action="{action}" {(enctype == "" ? "" : $"enctype=\"{enctype}\"")}>{fields}</form>
        <script>document.getElementById('f').submit();</script>
        </body></html>
        """;

    private async Task SeedDeadLettersAsync()
    {
        var letter = new DeadLetter("7", "test", "t-x", 3, "w", DateTimeOffset.UtcNow);
        await server.Db.ListRightPushAsync(Keys.DeadLetters, [QueueJson.Serialize(letter), QueueJson.Serialize(letter with { Entry = "8" })]);
    }

    private async Task<JsonElement> FetchAttackAsync(IPage page)
    {
        await page.GotoAsync($"{_siteAddress}/fetch?d={Uri.EscapeDataString(_dashboard)}");
        await page.WaitForFunctionAsync("() => window.results && window.results.done === true");
        return JsonDocument.Parse(await page.EvaluateAsync<string>("() => JSON.stringify(window.results)")).RootElement.Clone();
    }

    // The status the dashboard answered a form posted from the other site.
    private async Task<int> FormAttackAsync(IPage page, string attack, string path)
    {
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GotoAsync($"{_siteAddress}/{attack}?d={Uri.EscapeDataString(_dashboard)}"), r => r.Url == _dashboard + path);
        return response.Status;
    }

    private async Task AssertNothingChangedAsync(JsonElement fetched, params int[] formStatuses)
    {
        Assert.Equal("sent", fetched.GetProperty("retry").GetString());
        Assert.Equal("sent", fetched.GetProperty("enqueue").GetString());
        Assert.DoesNotContain("read:", fetched.GetProperty("hub").GetString());
        Assert.All(formStatuses, s => Assert.Equal(403, s));
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.DeadLetters));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task PageOfAnotherOrigin_CannotActThroughASignedInOperator()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        _dashboard = app.BaseAddress;
        await SeedDeadLettersAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_dashboard + "/queue");
        await page.Locator("[data-testid=signin-user]").FillAsync("otto");
        await page.Locator("[data-testid=signin-password]").FillAsync(SignedInApp.Password);
        await page.Locator("[data-testid=signin-submit]").ClickAsync();
        await LivePage.WaitInteractiveAsync(page);

        var other = await page.Context.NewPageAsync();
        var fetched = await FetchAttackAsync(other);
        int retry = await FormAttackAsync(other, "form-retry", "/api/dead-letters/retry");
        int enqueue = await FormAttackAsync(other, "form-enqueue", "/api/tasks");
        int signOut = await FormAttackAsync(other, "form-signout", "/signout");

        await AssertNothingChangedAsync(fetched, retry, enqueue, signOut);
        await LivePage.GoAsync(page, _dashboard + "/queue");
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("otto · Operator");
    }

    [Fact]
    public async Task PageOfAnotherOrigin_CannotActThroughTheDefaultLoopbackAdmin()
    {
        await using var app = await DashboardApp.StartAsync(server, _queue);
        _dashboard = app.BaseAddress;
        await SeedDeadLettersAsync();
        var page = await browser.NewPageAsync();

        var fetched = await FetchAttackAsync(page);
        int retry = await FormAttackAsync(page, "form-retry", "/api/dead-letters/retry");
        int enqueue = await FormAttackAsync(page, "form-enqueue", "/api/tasks");

        await AssertNothingChangedAsync(fetched, retry, enqueue);
    }

    [Fact]
    public async Task DefaultMode_ANameOfAnotherSiteResolvedTo127001_IsRefused()
    {
        await using var app = await DashboardApp.StartAsync(server, _queue);
        await SeedDeadLettersAsync();
        int port = new Uri(app.BaseAddress).Port;
        // DNS rebinding as the browser sees it: the other site's name now resolves to this machine.
        using var playwright = await Playwright.CreateAsync();
        await using var rebound = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--host-resolver-rules=MAP rebound.test 127.0.0.1"],
        });
        var page = await rebound.NewPageAsync();

        var response = await page.GotoAsync($"http://rebound.test:{port}/");
        int retry = await page.EvaluateAsync<int>("async () => (await fetch('/api/dead-letters/retry', { method: 'POST' })).status");

        Assert.Equal(400, response!.Status);
        Assert.Contains("localhost", await response.TextAsync());
        Assert.Equal(400, retry);
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.DeadLetters));
    }

    [Fact]
    public async Task SignOut_WithoutItsAntiforgeryToken_IsRefused_AndTheSessionStays()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        _dashboard = app.BaseAddress;
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_dashboard + "/queue");
        await page.Locator("[data-testid=signin-user]").FillAsync("otto");
        await page.Locator("[data-testid=signin-password]").FillAsync(SignedInApp.Password);
        await page.Locator("[data-testid=signin-submit]").ClickAsync();
        await LivePage.WaitInteractiveAsync(page);

        // Same origin (no Origin header, the browser's cookie), but no token.
        var response = await page.Context.APIRequest.PostAsync(_dashboard + "/signout", new() { MaxRedirects = 0 });

        Assert.Equal(400, response.Status);
        Assert.Contains("antiforgery token", await response.TextAsync());
        await LivePage.GoAsync(page, _dashboard + "/queue");
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("otto · Operator");
    }
}
