using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>Sign-in and roles through the browser, under the Content-Security-Policy.</summary>
[Collection(HeavyLanes.First)]
public sealed class SignInEndToEndFacts(BrowserFixture browser, RedisServer server)
    : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly List<string> _cspViolations = [];
    private DashboardApp _app = default!;

    public async Task InitializeAsync() => _app = await SignedInApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<IPage> SignInAsync(string path, string user, string password)
    {
        var page = await browser.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                _cspViolations.Add(message.Text);
            }
        };
        await page.GotoAsync(_app.BaseAddress + path);
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        await page.Locator("[data-testid=signin-user]").FillAsync(user);
        await page.Locator("[data-testid=signin-password]").FillAsync(password);
        await page.Locator("[data-testid=signin-submit]").ClickAsync();
        return page;
    }

    [Fact]
    public async Task Viewer_SeesThePages_WithEveryActionDisabled()
    {
        var page = await SignInAsync("/queue", "vera", "wrong password");
        await Assertions.Expect(page.Locator("[data-testid=signin-error]")).ToHaveTextAsync("The user name or password is wrong.");
        await page.Locator("[data-testid=signin-password]").FillAsync(SignedInApp.Password);
        await page.Locator("[data-testid=signin-submit]").ClickAsync();

        await LivePage.WaitInteractiveAsync(page);
        Assert.EndsWith("/queue", page.Url);
        await Assertions.Expect(page.Locator("[data-testid=signed-in-user]")).ToHaveTextAsync("vera · Viewer");
        await Assertions.Expect(page.Locator("[data-testid=viewer-banner]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=purge]")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("[data-testid=pause]")).ToBeDisabledAsync();
        // Every page's actions, disabled for a Viewer (the server refuses them anyway: AccessFacts).
        foreach (var (path, actions) in PageActions)
        {
            await LivePage.GoAsync(page, _app.BaseAddress + path);
            foreach (var action in actions)
            {
                await Assertions.Expect(page.Locator($"[data-testid={action}]")).ToBeDisabledAsync();
            }
        }

        // The API tokens page is for Admins: a Viewer is sent to the sign-in page, told why.
        await page.GotoAsync(_app.BaseAddress + "/settings");
        await Assertions.Expect(page.Locator("[data-testid=signin-denied]")).ToContainTextAsync("vera");
        Assert.Empty(_cspViolations);
    }

    // The actions each page offers whatever the queue holds (purge and retry need something to act on).
    private static readonly (string Path, string[] Actions)[] PageActions =
    [
        ("/enqueue", ["enqueue", "enqueue-book"]), ("/queue", ["pause"]), ("/jobs", ["job-create"]),
        ("/cronjobs", ["cron-create"]), ("/autoscaling", ["hpa-save"]),
    ];

    [Fact]
    public async Task Operator_Enqueues_TheAuditPageShowsWhoDidIt_ThenSignsOut()
    {
        var page = await SignInAsync("/enqueue", "otto", SignedInApp.Password);
        await LivePage.WaitInteractiveAsync(page);
        foreach (var (path, actions) in PageActions)
        {
            await LivePage.GoAsync(page, _app.BaseAddress + path);
            foreach (var action in actions)
            {
                await Assertions.Expect(page.Locator($"[data-testid={action}]")).ToBeEnabledAsync();
            }
        }

        await LivePage.GoAsync(page, _app.BaseAddress + "/enqueue");
        await page.Locator("input[data-testid=iterations]").FillAsync("1000");
        await page.Locator("input[data-testid=count]").FillAsync("4");
        await page.Locator("[data-testid=enqueue]").ClickAsync();
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(new QueueKeys(_queue).Queue) == 4, TimeSpan.FromSeconds(20), "4 tasks enqueued");

        await LivePage.GoAsync(page, _app.BaseAddress + "/audit");
        var row = page.Locator("[data-testid=audit-table] tbody tr").First;
        await Assertions.Expect(row).ToContainTextAsync("otto");
        await Assertions.Expect(row).ToContainTextAsync("enqueue");
        await Assertions.Expect(row.Locator("[data-testid=audit-outcome]")).ToHaveTextAsync("done");

        await page.Locator("[data-testid=signout]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=signin-form]")).ToBeVisibleAsync();
        await page.GotoAsync(_app.BaseAddress + "/enqueue");
        await Assertions.Expect(page.Locator("[data-testid=signin-form]")).ToBeVisibleAsync();
        Assert.Empty(_cspViolations);
    }

    [Fact]
    public async Task Admin_MakesAnApiToken_ThatWorks_ThenRevokesIt()
    {
        var page = await SignInAsync("/settings", "admin", SignedInApp.AdminPassword);
        await LivePage.WaitInteractiveAsync(page);
        await page.Locator("input[data-testid=token-name]").FillAsync("nightly producer");
        await page.Locator("[data-testid=token-create]").ClickAsync();
        string token = (await page.Locator("[data-testid=token-secret]").InnerTextAsync()).Trim();
        Assert.StartsWith("piops_", token);

        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await client.PostAsync("/api/tasks",
            new StringContent("{\"iterations\": 10}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);

        await LivePage.ClickOpeningDialogAsync(page, page.Locator("[data-testid=token-revoke]"), "Revoke nightly producer?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=tokens-table]")).ToContainTextAsync("No API tokens.");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/api/queue")).StatusCode);
        Assert.Empty(_cspViolations);
    }
}
