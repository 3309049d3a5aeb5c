using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Audit;
using PiOps.Web.Queue;
using PiOps.Web.Security;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>Roles on every path around the UI: the HTTP API with tokens, the hub, and component actions called directly.</summary>
public sealed class AccessFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;

    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync() => _app = await SignedInApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpClient> ClientWithTokenAsync(string role)
    {
        var (token, _) = await _app.Services.GetRequiredService<ApiTokens>().CreateAsync("test " + role, role, "test");
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private Task<IReadOnlyList<AuditEntry>> AuditAsync() => _app.Services.GetRequiredService<AuditLog>().ReadAsync(100);

    [Fact]
    public async Task Api_WithoutCredentials_Is401_AndNothingIsEnqueued()
    {
        using var client = _app.CreateClient();

        var read = await client.GetAsync("/api/queue");
        var write = await client.PostAsJsonAsync("/api/tasks", new { iterations = 10 });

        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Api_WithARevokedOrMadeUpToken_Is401_WithASentence()
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "piops_made-up");

        var response = await client.GetAsync("/api/queue");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not valid, or it was revoked", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_ViewerToken_Reads_ButMayNotEnqueue_AndTheRefusalIsAudited()
    {
        using var client = await ClientWithTokenAsync(Roles.Viewer);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/queue")).StatusCode);
        var write = await client.PostAsJsonAsync("/api/tasks", new { iterations = 10 });

        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
        var entry = (await AuditAsync()).First();
        Assert.Equal(("token:test Viewer", "Viewer", false), (entry.User, entry.Role, entry.Succeeded));
        Assert.Equal("POST /api/tasks", entry.Action);
    }

    [Fact]
    public async Task Api_OperatorToken_Enqueues_AndTheChangeIsAudited()
    {
        using var client = await ClientWithTokenAsync(Roles.Operator);

        var write = await client.PostAsJsonAsync("/api/tasks", new { iterations = 10, count = 3 });

        Assert.Equal(HttpStatusCode.Created, write.StatusCode);
        Assert.Equal(3, await server.Db.ListLengthAsync(Keys.Queue));
        var entry = (await AuditAsync()).First();
        Assert.Equal(("token:test Operator", "enqueue", true, "api"), (entry.User, entry.Action, entry.Succeeded, entry.Via));
        Assert.Contains("3 task(s)", entry.Parameters);
        Assert.Equal("127.0.0.1", entry.Address);
    }

    [Fact]
    public async Task Api_RequestsOverOneMebibyte_AreRefused()
    {
        using var client = await ClientWithTokenAsync(Roles.Operator);
        string body = "{\"tasks\":[" + string.Join(',', Enumerable.Repeat("1000000", 200_000)) + "]}";

        var response = await client.PostAsync("/api/tasks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Hub_RefusesAnonymousConnections_AndServesATokenHolder()
    {
        await using var anonymous = new HubConnectionBuilder().WithUrl(_app.BaseAddress + "/hubs/queue").Build();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var (token, _) = await _app.Services.GetRequiredService<ApiTokens>().CreateAsync("hub reader", Roles.Viewer, "test");
        await using var hub = new HubConnectionBuilder()
            .WithUrl(_app.BaseAddress + "/hubs/queue", o => o.Headers["Authorization"] = "Bearer " + token).Build();
        await hub.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var stats in hub.StreamAsync<PiOps.Web.Api.QueueStats>("StreamStats", cts.Token))
        {
            Assert.Equal(0, stats.Depth);
            break;
        }
    }

    [Fact]
    public async Task ComponentActions_CalledDirectlyAsAViewer_AreRefusedAndAudited()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var user = scope.ServiceProvider.GetRequiredService<UserContext>();
        user.User = SignInService.Principal("vera", Roles.Viewer, "test");
        user.Address = "192.0.2.10";
        var ops = scope.ServiceProvider.GetRequiredService<IQueueOperations>();
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();

        var purge = await Assert.ThrowsAsync<OperatorActionException>(() => ops.PurgeAsync(0));
        var scale = await Assert.ThrowsAsync<OperatorActionException>(() => runtime.ScaleAsync(3));
        await Assert.ThrowsAsync<OperatorActionException>(() => ops.EnqueueAsync(10, 1, EntryFormat.Plain));

        Assert.Contains("only an Operator or an Admin may purge", purge.Message);
        Assert.Contains("vera (Viewer)", scale.Message);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
        var audit = await AuditAsync();
        Assert.Equal(["enqueue", "scale", "purge"], audit.Take(3).Select(e => e.Action));
        Assert.All(audit.Take(3), e => Assert.Equal(("vera", "192.0.2.10", false), (e.User, e.Address, e.Succeeded)));
    }

    [Fact]
    public async Task ComponentActions_AsAnOperator_RunAndAreAudited_WithFailuresToo()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<UserContext>().User = SignInService.Principal("otto", Roles.Operator, "test");
        var ops = scope.ServiceProvider.GetRequiredService<IQueueOperations>();

        await ops.EnqueueAsync(10, 2, EntryFormat.Plain);
        await Assert.ThrowsAsync<OperatorActionException>(() => ops.EnqueueAsync(10, 0, EntryFormat.Plain));

        var audit = await AuditAsync();
        Assert.Equal([("enqueue", false), ("enqueue", true)], audit.Take(2).Select(e => (e.Action, e.Succeeded)));
        Assert.Contains("Count must be from 1", audit[0].Error);
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task AuditCsv_ExportsTheFilteredTrail_WithFormulasNeutralised()
    {
        var log = _app.Services.GetRequiredService<AuditLog>();
        await log.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, "otto", "Operator", "127.0.0.1", "page", "purge", "queue:x", "=1+1", true, null));
        await log.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, "vera", "Viewer", "127.0.0.1", "page", "purge", "queue:x", "", false, "refused, \"Viewer\""));
        using var client = await ClientWithTokenAsync(Roles.Viewer);

        string csv = await client.GetStringAsync("/api/audit.csv?failedOnly=true");

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("at,user,role,address,via,action,target,parameters,outcome,error", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(",vera,Viewer,127.0.0.1,page,purge,queue:x,,failed,\"refused, \"\"Viewer\"\"\"", lines[1]);
        string all = await client.GetStringAsync("/api/audit.csv?user=otto");
        Assert.Contains(",'=1+1,succeeded,", all);
    }

    [Fact]
    public async Task Responses_CarryTheSecurityHeaders()
    {
        using var client = _app.CreateClient();

        var response = await client.GetAsync("/signin");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SecurityHeadersMiddleware.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", SecurityHeadersMiddleware.ContentSecurityPolicy);
    }

    [Fact]
    public async Task Pages_WithoutSignIn_RedirectToTheSignInPage_ProbesStayOpen()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_app.BaseAddress) };

        var page = await client.GetAsync("/jobs");
        var health = await client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/signin?ReturnUrl=%2Fjobs", page.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
