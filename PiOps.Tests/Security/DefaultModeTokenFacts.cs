using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Security;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// In the default mode (no sign-in, this machine acts as Admin) a bearer token is still checked, so a producer can try
/// its token locally; and the OpenID Connect entry answers a sentence where it is not configured.
/// </summary>
public sealed class DefaultModeTokenFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;

    public async Task InitializeAsync() => _app = await DashboardApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ABearerTokenThatIsNotValid_Is401_EvenFromThisMachine()
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "piops_made-up");

        var read = await client.GetAsync("/api/queue");
        var write = await client.PostAsJsonAsync("/api/tasks", new { iterations = 10 });

        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        Assert.Contains("not valid", await read.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.Equal(0, await server.Db.ListLengthAsync(new QueueKeys(_queue).Queue));
    }

    [Fact]
    public async Task AValidToken_ActsWithItsOwnRole_EvenFromThisMachine()
    {
        var (token, _) = await _app.Services.GetRequiredService<ApiTokens>().CreateAsync("viewer script", Roles.Viewer, "test");
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/queue")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/tasks", new { iterations = 10 })).StatusCode);
        Assert.Equal(0, await server.Db.ListLengthAsync(new QueueKeys(_queue).Queue));
    }

    [Fact]
    public async Task SignInWithOidc_WhereItIsNotConfigured_Is404WithASentence()
    {
        await using var signedIn = await SignedInApp.StartAsync(server, _queue);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(signedIn.BaseAddress) };
        using var local = _app.CreateClient();

        foreach (var response in new[] { await client.GetAsync("/signin/oidc?returnUrl=%2Fjobs"), await local.GetAsync("/signin/oidc") })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("not configured", await response.Content.ReadAsStringAsync());
        }
    }
}
