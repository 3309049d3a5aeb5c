using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Security;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// Sessions end: sign-out, a lowered role and the absolute lifetime end a cookie on the API and the hub, and a
/// revoked API token ends its open hub streams.
/// </summary>
public sealed class SessionFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private QueueKeys Keys => new(_queue);

    private static Task<HttpResponseMessage> EnqueueAsync(HttpClient client) => client.PostAsJsonAsync("/api/tasks", new { iterations = 10 });

    [Fact]
    public async Task SignOut_EndsTheSession_TheOldCookieReplayedOnTheApiIs401()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        using var session = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
        string cookie = session.Cookie;
        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(session.Client)).StatusCode);

        var signOut = await session.SignOutAsync();

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        using var replay = CookieSession.Replaying(app.BaseAddress, cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await EnqueueAsync(replay)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/queue")).StatusCode);
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task SignOut_EndsEverySessionOfTheUser_NotOtherUsers()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        using var laptop = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
        using var phone = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
        using var admin = await CookieSession.SignInAsync(app.BaseAddress, "admin", SignedInApp.AdminPassword);

        await laptop.SignOutAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await EnqueueAsync(phone.Client)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(admin.Client)).StatusCode);
        // Signing in again starts a new session.
        using var again = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(again.Client)).StatusCode);
    }

    [Fact]
    public async Task RoleLoweredInConfiguration_TheOldCookieLosesTheOldRole_AfterARestart()
    {
        string cookie;
        await using (var app = await SignedInApp.StartAsync(server, _queue))
        {
            using var session = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
            Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(session.Client)).StatusCode);
            cookie = session.Cookie;
        }

        // The same dashboard started again with otto lowered to Viewer, and vera removed.
        await using var lowered = await SignedInApp.StartAsync(server, _queue, new Dictionary<string, string?> { ["Auth:Users:1:Role"] = "Viewer" });
        using var replay = CookieSession.Replaying(lowered.BaseAddress, cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, (await EnqueueAsync(replay)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/queue")).StatusCode);
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue));
        using var signedInAgain = await CookieSession.SignInAsync(lowered.BaseAddress, "otto", SignedInApp.Password);
        Assert.Equal(HttpStatusCode.OK, (await signedInAgain.Client.GetAsync("/api/queue")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await EnqueueAsync(signedInAgain.Client)).StatusCode);
    }

    [Fact]
    public async Task UserRemovedFromConfiguration_TheOldCookieIs401_AfterARestart()
    {
        string cookie;
        await using (var app = await SignedInApp.StartAsync(server, _queue))
        {
            using var session = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
            cookie = session.Cookie;
        }

        // otto's entry now names someone else.
        await using var without = await SignedInApp.StartAsync(server, _queue, new Dictionary<string, string?> { ["Auth:Users:1:Name"] = "olga" });
        using var replay = CookieSession.Replaying(without.BaseAddress, cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/queue")).StatusCode);
    }

    [Fact]
    public async Task AbsoluteLifetime_EndsASessionThatIsInUse()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue, new Dictionary<string, string?> { ["Auth:AbsoluteSessionLifetime"] = "00:00:08" });
        using var session = await CookieSession.SignInAsync(app.BaseAddress, "otto", SignedInApp.Password);
        var started = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await session.Client.GetAsync("/api/queue")).StatusCode);

        // Used all along (the sliding expiry would keep it), it still ends.
        await Eventually.WaitAsync(async () => (await session.Client.GetAsync("/api/queue")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(60), "the session to end after its absolute lifetime of 8 s");

        // The watch started just after the sign-in: it may lag the session's clock by the sign-in's redirect, not more.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(6), $"ended after {started.Elapsed}, before its lifetime");
    }

    [Fact]
    public void AbsoluteLifetime_IsValidatedAtStart()
    {
        var errors = new AuthOptions { AbsoluteSessionLifetime = TimeSpan.Zero }.Validate()
            .Concat(new AuthOptions { AbsoluteSessionLifetime = TimeSpan.FromDays(31) }.Validate()).ToList();

        Assert.Equal(2, errors.Count(e => e.StartsWith("Auth:AbsoluteSessionLifetime must be more than zero and at most 30 days", StringComparison.Ordinal)));
        Assert.Empty(new AuthOptions().Validate());
    }

    [Fact]
    public async Task RevokedToken_EndsItsOpenHubStream_WithinFiveSeconds()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        var tokens = app.Services.GetRequiredService<ApiTokens>();
        var (token, info) = await tokens.CreateAsync("stats reader", Roles.Viewer, "test");
        await using var hub = new HubConnectionBuilder()
            .WithUrl(app.BaseAddress + "/hubs/queue", o => o.Headers["Authorization"] = "Bearer " + token).Build();
        await hub.StartAsync();
        var first = new TaskCompletionSource<bool>();
        var stream = ReadUntilEndAsync(hub, first);
        await first.Task.Within(TimeSpan.FromSeconds(30), "the first statistics");

        await tokens.RevokeAsync(info.Id);
        var revokedAt = Stopwatch.StartNew();

        // Ended: completed, or broken off by the server, within 5 s.
        await Ended(stream).Within(TimeSpan.FromSeconds(5), () => $"the stream still flowed {revokedAt.Elapsed} after the token was revoked");
        await Eventually.WaitAsync(() => hub.State == HubConnectionState.Disconnected, TimeSpan.FromSeconds(10), "the connection closed");
    }

    [Fact]
    public async Task SignOut_EndsTheCookiesOpenHubStream()
    {
        await using var app = await SignedInApp.StartAsync(server, _queue);
        using var session = await CookieSession.SignInAsync(app.BaseAddress, "vera", SignedInApp.Password);
        using var other = await CookieSession.SignInAsync(app.BaseAddress, "vera", SignedInApp.Password);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(app.BaseAddress + "/hubs/queue", o => o.Headers["Cookie"] = session.Cookie).Build();
        await hub.StartAsync();
        var first = new TaskCompletionSource<bool>();
        var stream = ReadUntilEndAsync(hub, first);
        await first.Task.Within(TimeSpan.FromSeconds(30), "the first statistics");

        // Signed out in another tab or device: every session of vera ends.
        await other.SignOutAsync();

        var signedOutAt = Stopwatch.StartNew();
        await Ended(stream).Within(TimeSpan.FromSeconds(5), () => $"the stream still flowed {signedOutAt.Elapsed} after sign-out");
    }

    /// <summary>Completes when the stream ends, whether it completed or broke: either way it no longer flows.</summary>
    private static Task Ended(Task stream) => stream.ContinueWith(_ => { }, TaskScheduler.Default);

    // Reads statistics until the stream ends; returns normally only if it completed, throws if it broke.
    private static async Task<int> ReadUntilEndAsync(HubConnection hub, TaskCompletionSource<bool> first)
    {
        int count = 0;
        await foreach (var _ in hub.StreamAsync<PiOps.Web.Api.QueueStats>("StreamStats"))
        {
            count++;
            first.TrySetResult(true);
        }

        return count;
    }
}
