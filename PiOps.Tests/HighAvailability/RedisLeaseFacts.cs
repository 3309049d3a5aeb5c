using PiOps.Tests.Infrastructure;
using PiOps.Web.HighAvailability;
using PiOps.Web.Redis;
using StackExchange.Redis;
using Xunit;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.HighAvailability;

public sealed class RedisLeaseFacts_Redis(RedisServer server) : RedisLeaseFacts<RedisServer>(server);

public sealed class RedisLeaseFacts_Garnet(GarnetServer server) : RedisLeaseFacts<GarnetServer>(server);

/// <summary>
/// The lease of a singleton duty between would-be holders with connections of their own, as two dashboard replicas
/// have, on redis-server and on the embedded Garnet.
/// </summary>
public abstract class RedisLeaseFacts<TServer>(TServer server) : IClassFixture<TServer>, IAsyncLifetime
    where TServer : TestRedisServer
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Renew = TimeSpan.FromMilliseconds(500);
    private readonly RedisKey _key = new DashboardKeys(TestRedisServer.NewQueueName()).Lease("recovery");
    private readonly List<ConnectionMultiplexer> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _connections)
        {
            await c.DisposeAsync();
        }
    }

    private RedisLease Lease(string holder, Func<IDatabase>? database = null)
    {
        var connection = ConnectionMultiplexer.Connect(server.Endpoint);
        _connections.Add(connection);
        return new RedisLease(database ?? (() => connection.GetDatabase()), _key, "recovery", holder, Ttl, TimeProvider.System);
    }

    [Fact]
    public async Task TwoHolders_Contending_ExactlyOneHolds()
    {
        var a = Lease("a");
        var b = Lease("b");

        var taken = await Task.WhenAll(a.TryTakeAsync(), b.TryTakeAsync());

        Assert.Equal(1, taken.Count(t => t));
        var (holder, other) = taken[0] ? (a, b) : (b, a);
        Assert.True(holder.IsHeld);
        Assert.False(other.IsHeld);
        Assert.Equal(holder.Holder, (string?)await server.Db.StringGetAsync(_key));
        Assert.Equal(holder.Holder, other.HeldBy);
        // Turns as the dashboards take them change nothing while the holder renews.
        for (int i = 0; i < 5; i++)
        {
            await Task.WhenAll(a.HoldAsync(Renew), b.HoldAsync(Renew));
            Assert.True(holder.IsHeld);
            Assert.False(other.IsHeld);
        }
    }

    [Fact]
    public async Task ANonHolder_CannotRenewOrRelease()
    {
        var a = Lease("a");
        var b = Lease("b");
        Assert.True(await a.TryTakeAsync());
        var ttlBefore = await server.Db.KeyTimeToLiveAsync(_key);

        Assert.False(await b.RenewAsync());
        await b.ReleaseAsync();

        Assert.False(b.IsHeld);
        Assert.Equal("a", (string?)await server.Db.StringGetAsync(_key));
        Assert.True(await server.Db.KeyTimeToLiveAsync(_key) <= ttlBefore, "a renewal by a non-holder extended the lease");
        Assert.True(await a.RenewAsync());
    }

    [Fact]
    public async Task AHolderThatStopsRenewing_IsReplacedWithinTheTtl_AndNeverBothHoldIt()
    {
        var a = Lease("a");
        var b = Lease("b");
        Assert.True(await a.TryTakeAsync());
        var renewedAt = DateTime.UtcNow;
        Assert.False(await b.TryTakeAsync());

        // a stops renewing (its process is gone, or stalled); b takes turns as the dashboards do.
        var turns = Task.Run(async () =>
        {
            while (!b.IsHeld)
            {
                await Task.Delay(await b.HoldAsync(Renew));
            }
        });
        while (!turns.IsCompleted)
        {
            // The key first, then a's belief: once Redis has let the lease go, a must not believe it holds it.
            bool gone = !await server.Db.KeyExistsAsync(_key) || (string?)await server.Db.StringGetAsync(_key) == "b";
            Assert.False(gone && a.IsHeld, "a still believed it held the lease after Redis had let it go");
            Assert.False(a.IsHeld && b.IsHeld, "both held the lease");
            await Task.WhenAny(turns, Task.Delay(10));
            Assert.True(DateTime.UtcNow - renewedAt < Ttl + TimeSpan.FromSeconds(10), "b did not take the lease within the TTL and a slack of 10 s");
        }

        await turns;
        var took = DateTime.UtcNow - renewedAt;
        Assert.False(a.IsHeld);
        Assert.True(took >= Ttl / 2, $"b took the lease after {took.TotalMilliseconds:F0} ms, before a's TTL could have run out");

        // b goes on renewing, as a live dashboard does, while a tries again. (Without renewals b's own 2 s would lapse
        // on a busy machine before a's tries, and a would rightly take it.)
        using var stop = new CancellationTokenSource();
        var holding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(await b.HoldAsync(Renew));
            }
        });
        Assert.Equal("b", (string?)await server.Db.StringGetAsync(_key));
        Assert.False(await a.RenewAsync());
        Assert.False(await a.TryTakeAsync());
        Assert.Equal("b", a.HeldBy);
        await stop.CancelAsync();
        await holding;
    }

    [Fact]
    public async Task AHolderCutOffFromRedis_StopsBelievingItHoldsTheLease_WithinTheTtl()
    {
        bool cut = false;
        var options = ConfigurationOptions.Parse($"127.0.0.1:{FreePort.Next()}");
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 500;
        var nowhere = await ConnectionMultiplexer.ConnectAsync(options);
        _connections.Add(nowhere);
        var reachable = ConnectionMultiplexer.Connect(server.Endpoint);
        _connections.Add(reachable);
        var a = Lease("a", () => (cut ? nowhere : reachable).GetDatabase());
        Assert.True(await a.TryTakeAsync());
        var takenAt = DateTime.UtcNow;

        cut = true;
        await Assert.ThrowsAnyAsync<Exception>(() => a.HoldAsync(Renew));

        Assert.Null(a.HeldBy);
        await Eventually.WaitAsync(() => !a.IsHeld, Ttl + TimeSpan.FromSeconds(1), "a to stop believing it holds the lease");
        Assert.True(DateTime.UtcNow - takenAt >= Ttl * 0.9, "a stopped believing long before its TTL ran out");
    }

    [Fact]
    public async Task AReleasedLease_IsTakenAtOnce()
    {
        var a = Lease("a");
        var b = Lease("b");
        Assert.True(await a.TryTakeAsync());

        await a.ReleaseAsync();

        Assert.False(a.IsHeld);
        Assert.True(await b.TryTakeAsync());
        Assert.Equal("b", (string?)await server.Db.StringGetAsync(_key));
    }
}
