using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Audit;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// X-Forwarded-For sent by another host (a network namespace of the test's own): believed only from a configured
/// proxy, so it can neither pass the loopback guard nor forge the audit's address.
/// </summary>
public sealed class ForwardedHeadersFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private NetworkNamespace _other = default!;

    public async Task InitializeAsync() => _other = await NetworkNamespace.CreateAsync();

    public async Task DisposeAsync() => await _other.DisposeAsync();

    private Task<DashboardApp> StartAsync(params (string Key, string Value)[] settings)
    {
        var extra = new Dictionary<string, string?> { ["Urls"] = $"http://{_other.HostAddress}:0" };
        foreach (var (k, v) in settings)
        {
            extra[k] = v;
        }

        return DashboardApp.StartAsync(server, _queue, extra);
    }

    [Fact]
    public async Task ForwardedForLoopback_FromAnotherHost_DoesNotPassTheLoopbackGuard()
    {
        await using var app = await StartAsync();

        var (status, body) = await _other.SendAsync("POST", app.BaseAddress + "/api/tasks", """{"iterations": 10}""", ("X-Forwarded-For", "127.0.0.1"));

        Assert.Equal(403, status);
        Assert.Contains("only its own machine", body);
        Assert.Equal(0, await server.Db.ListLengthAsync(new QueueKeys(_queue).Queue));
    }

    [Fact]
    public async Task ForwardedFor_FromAHostThatIsNoConfiguredProxy_DoesNotForgeTheAuditAddress()
    {
        await using var app = await StartAsync(("Access:AllowRemote", "true"));

        var (status, body) = await _other.SendAsync("POST", app.BaseAddress + "/api/tasks", """{"iterations": 10}""", ("X-Forwarded-For", "203.0.113.9"));

        Assert.True(status == 201, $"{status}: {body}");
        var entry = Assert.Single(await app.Services.GetRequiredService<AuditLog>().ReadAsync(10), e => e.Action == "enqueue");
        Assert.Equal(_other.PeerAddress.ToString(), entry.Address);
    }

    [Fact]
    public async Task ForwardedFor_FromAnotherHost_DoesNotEscapeTheSignInLimitPerAddress()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue, new Dictionary<string, string?> { ["Urls"] = $"http://{_other.HostAddress}:0" });
        string jar = Path.Combine(Path.GetTempPath(), $"piops-cookies-{Guid.NewGuid():N}");
        try
        {
            var (_, page) = await _other.GetAsync(app.BaseAddress + "/signin", jar);
            string token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
            Assert.NotEmpty(token);
            var answers = new List<string>();
            // The default limit is 10 a minute per address; each guess claims another address, and names another user.
            for (int i = 0; i < 12; i++)
            {
                var (status, body) = await _other.PostFormAsync(app.BaseAddress + "/signin", jar,
                    [("_handler", "signin"), ("__RequestVerificationToken", token), ("Input.UserName", "guess" + i), ("Input.Password", "wrong")],
                    ("X-Forwarded-For", $"198.51.100.{i + 1}"));
                Assert.True(status == 200, $"{status}: {body}");
                answers.Add(body.Contains("Too many sign-in attempts") ? "limited" : body.Contains("The user name or password is wrong") ? "checked" : body);
            }

            Assert.Equal([.. Enumerable.Repeat("checked", 10), "limited", "limited"], answers);
        }
        finally
        {
            File.Delete(jar);
        }
    }

    [Fact]
    public async Task ForwardedFor_FromAConfiguredProxyNetwork_IsBelieved()
    {
        await using var app = await StartAsync(("Access:AllowRemote", "true"), ("Auth:KnownProxies:0", _other.Network));

        var (status, body) = await _other.SendAsync("POST", app.BaseAddress + "/api/tasks", """{"iterations": 10}""", ("X-Forwarded-For", "203.0.113.9"));

        Assert.True(status == 201, $"{status}: {body}");
        var entry = Assert.Single(await app.Services.GetRequiredService<AuditLog>().ReadAsync(10), e => e.Action == "enqueue");
        Assert.Equal("203.0.113.9", entry.Address);
    }
}
