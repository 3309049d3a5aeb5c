using System.Net;
using System.Net.Http.Json;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Security;
using PiOps.Web.Security;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// Two dashboard processes behind one name serve the same users: what one made (the sign-in cookie, a page's
/// antiforgery token) the other accepts, the audit trail is one, and a dashboard restarted in a fresh pod keeps its
/// users signed in. Each process has a home of its own, as two pods have, so nothing but Redis is shared between them.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class TwoDashboardsFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    /// <summary>Short leases, so a takeover fits in a test: renewed every second, lapsing after 3 s.</summary>
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(3);

    private Task<DashboardProcess> StartAsync()
    {
        var home = Directory.CreateTempSubdirectory("piops-pod-").FullName;
        return DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["Leases__Ttl"] = LeaseTtl.ToString(),
            ["Leases__RenewInterval"] = "00:00:01",
            ["HOME"] = home,
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = server.Port.ToString(),
            ["Queue__QueueName"] = _queue,
            ["Auth__AdminPassword"] = SignedInApp.AdminPassword,
            ["Auth__Users__0__Name"] = "otto",
            ["Auth__Users__0__Role"] = "Operator",
            ["Auth__Users__0__PasswordHash"] = PasswordHashes.Hash(SignedInApp.Password),
        });
    }

    [Fact]
    public async Task SignedInOnOne_ActsOnTheOther_AndSignsOutThereWithTheFirstsForm()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        using var session = await CookieSession.SignInAsync(first.BaseAddress, "otto", SignedInApp.Password);
        using var onSecond = CookieSession.Replaying(second.BaseAddress, session.Cookie);

        var enqueued = await onSecond.PostAsJsonAsync("/api/tasks", new { iterations = 10 });

        Assert.Equal(HttpStatusCode.Created, enqueued.StatusCode);
        Assert.Equal(1, await server.Db.ListLengthAsync(new QueueKeys(_queue).Queue));
        // The first's page and its form token, posted to the second: the layout's sign-out button behind a load balancer.
        string page = await session.Client.GetStringAsync("/");
        var signOut = await onSecond.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = CookieSession.Token(page),
        }));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        // The session ended in Redis; the first believes a stamp it read for at most UserSessions.StampCacheTime.
        await Eventually.WaitAsync(async () => (await session.Client.GetAsync("/api/queue")).StatusCode == HttpStatusCode.Unauthorized,
            UserSessions.StampCacheTime + TimeSpan.FromSeconds(20), "the first dashboard refusing the signed-out cookie");
    }

    [Fact]
    public async Task ADashboardRestartedInAFreshPod_KeepsItsUsersSignedIn()
    {
        string cookie;
        await using (var before = await StartAsync())
        {
            using var session = await CookieSession.SignInAsync(before.BaseAddress, "otto", SignedInApp.Password);
            cookie = session.Cookie;
            Assert.Equal(HttpStatusCode.OK, (await session.Client.GetAsync("/api/queue")).StatusCode);
        }

        await using var after = await StartAsync();
        using var replay = CookieSession.Replaying(after.BaseAddress, cookie);

        Assert.Equal(HttpStatusCode.OK, (await replay.GetAsync("/api/queue")).StatusCode);
    }

    [Fact]
    public async Task OneAuditTrail_WhatEachDashboardDid_IsReadTheSameOnEither()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        using var onFirst = await CookieSession.SignInAsync(first.BaseAddress, "otto", SignedInApp.Password);
        using var onSecond = await CookieSession.SignInAsync(second.BaseAddress, "otto", SignedInApp.Password);

        Assert.Equal(HttpStatusCode.Created, (await onFirst.Client.PostAsJsonAsync("/api/tasks", new { iterations = 11 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await onSecond.Client.PostAsJsonAsync("/api/tasks", new { iterations = 22 })).StatusCode);

        // The audit as each dashboard exports it: both enqueues, whichever dashboard took them, in one order.
        string fromFirst = await onFirst.Client.GetStringAsync("/api/audit.csv?user=otto&action=enqueue");
        string fromSecond = await onSecond.Client.GetStringAsync("/api/audit.csv?user=otto&action=enqueue");
        var lines = fromFirst.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(2, lines.Count(l => l.Contains(",otto,Operator,", StringComparison.Ordinal) && l.Contains(",succeeded,", StringComparison.Ordinal)));
        Assert.Equal(fromFirst, fromSecond);
    }

    [Fact]
    public async Task FailedSignIns_SpreadOverBothDashboards_AddUpToTheLockout()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();

        // The default lockout: 5 failures in a row, here 3 on one dashboard and 2 on the other.
        foreach (var dashboard in new[] { first, second, first, second, first })
        {
            Assert.Contains("The user name or password is wrong.", await PostSignInAsync(dashboard, "otto", "wrong password"));
        }

        Assert.Contains("This account is locked after 5 failed sign-ins", await PostSignInAsync(second, "otto", SignedInApp.Password));
        Assert.Contains("This account is locked after 5 failed sign-ins", await PostSignInAsync(first, "otto", SignedInApp.Password));
    }

    /// <summary>The sign-in form posted as a browser posts it; the page that comes back (its error, when refused).</summary>
    private static async Task<string> PostSignInAsync(DashboardProcess dashboard, string user, string password)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(dashboard.BaseAddress) };
        string form = await client.GetStringAsync("/signin");
        var response = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = CookieSession.Token(form),
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
        return System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DeadWorkerRecovery_CarriesOnOnTheSurvivor_WhenTheLeaseHolderIsKilled()
    {
        var keys = new QueueKeys(_queue);
        var lease = new PiOps.Web.Redis.DashboardKeys(_queue).Lease(PiOps.Web.HighAvailability.DashboardLeases.DeadWorkerRecovery);
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        string? holderId = null;
        await Eventually.WaitAsync(async () => (holderId = await server.Db.StringGetAsync(lease)) is not null,
            LeaseTtl + TimeSpan.FromSeconds(20), "a dashboard to take the recovery lease");
        var (holder, survivor) = holderId!.Contains($":{a.Pid}:") ? (a, b) : (b, a);
        Assert.Contains($":{holder.Pid}:", holderId);

        // A worker that died with a task in flight: registered, no heartbeat. The holder recovers it, the other does not.
        await MakeDeadWorkerAsync(keys, "gone-1", "1001");
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(keys.Queue) == 1,
            TimeSpan.FromSeconds(30), () => $"the holder to recover gone-1\n{holder.Output}");
        await Eventually.WaitAsync(() => holder.Output.Contains("Worker gone-1 stopped beating"), TimeSpan.FromSeconds(10),
            () => $"the holder's log line for gone-1\n{holder.Output}");
        Assert.DoesNotContain("gone-1", survivor.Output);

        await holder.KillAsync(); // SIGKILL: the lease is not given up, it lapses
        await MakeDeadWorkerAsync(keys, "gone-2", "1002");

        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(keys.Queue) == 2
                                               && await server.Db.ListLengthAsync(keys.InFlight("gone-2")) == 0,
            // The lease's TTL, then a turn of the lease (1 s) and of recovery (1 s), and a busy machine's slack.
            LeaseTtl + TimeSpan.FromSeconds(20), () => $"the survivor to recover gone-2\n{survivor.Output}");
        Assert.Contains($":{survivor.Pid}:", (string?)await server.Db.StringGetAsync(lease));
        // The log line follows the recovery it reports (stdout of another process): waited for, as for gone-1.
        await Eventually.WaitAsync(() => survivor.Output.Contains("Worker gone-2 stopped beating"), TimeSpan.FromSeconds(10),
            () => $"the survivor's log line for gone-2\n{survivor.Output}");
        // Recovery puts a task back at the head of the queue.
        var requeued = TaskEntry.Parse((string)(await server.Db.ListGetByIndexAsync(keys.Queue, 0))!, new QueueOptions());
        Assert.Equal((1002, 2), (requeued.Task!.Iterations, requeued.Task.Attempt));
    }

    private async Task MakeDeadWorkerAsync(QueueKeys keys, string worker, string entry)
    {
        await server.Db.ListRightPushAsync(keys.InFlight(worker), entry);
        await server.Db.SetAddAsync(keys.Workers, worker);
    }
}
