using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Queue;

public sealed class KeyLayoutMigrationFacts_Redis(RedisServer server) : KeyLayoutMigrationFacts<RedisServer>(server);

/// <summary>The embedded default keeps its data between runs, so an upgrade moves its keys too.</summary>
public sealed class KeyLayoutMigrationFacts_Garnet(GarnetServer server) : KeyLayoutMigrationFacts<GarnetServer>(server);

/// <summary>
/// An upgrade from the untagged key layout (<c>queue:task:stats</c>) to the hash-tagged one (<c>{queue:task}:stats</c>)
/// on a real server: what the earlier version left is moved, merged where the new version already wrote, and
/// in-flight tasks of workers of the earlier version come back through recovery once those workers stop.
/// </summary>
public abstract class KeyLayoutMigrationFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private QueueOptions Options => new() { QueueName = _queue, HeartbeatTtl = TimeSpan.FromSeconds(3), MaxAttempts = 3 };

    private QueueKeys Keys => new(_queue);

    private RedisKey Legacy(string suffix) => _queue + ":" + suffix;

    [Fact]
    public async Task EarlierLayout_IsMovedAndMerged_AndARunningOldWorkersTaskWaitsUntilItStops()
    {
        var db = server.Db;
        // What the earlier version wrote.
        await db.HashSetAsync(Legacy("stats"), [new("enqueued", 7), new("done", 5), new("lastPurgeAt", "2026-11-01T00:00:00Z")]);
        await db.ListRightPushAsync(Legacy("dead"), ["old-dead-1", "old-dead-2"]);
        await db.ListLeftPushAsync(Legacy("results"), "old-result");
        await db.HashSetAsync(Legacy("tokens"), "hash-of-token", "{\"name\":\"ci\"}");
        await db.ListLeftPushAsync(Legacy("audit"), "old-audit");
        await db.HashSetAsync(Legacy("task:b1-0"), [new("state", "done"), new("pi", "3.14")]);
        await db.KeyExpireAsync(Legacy("task:b1-0"), TimeSpan.FromHours(5));
        // A worker of the earlier version that died holding "111", and one still running with "222".
        await db.SetAddAsync(Legacy("workers"), ["old-dead", "old-alive"]);
        await db.ListRightPushAsync(Legacy("inflight:old-dead"), "111");
        await db.ListRightPushAsync(Legacy("inflight:old-alive"), "222");
        await db.StringSetAsync(Legacy("worker:old-alive"), "{}", TimeSpan.FromMinutes(5));
        // What the new version wrote meanwhile.
        await db.HashSetAsync(Keys.Stats, [new("enqueued", 3), new("done", 2)]);
        await db.ListRightPushAsync(Keys.DeadLetters, "new-dead");

        var first = new DeadWorkerRecovery(server.Client, Options, "dashboard");
        await first.RecoverAsync();

        // The dead old worker's task is back on the queue (attempt 2); the running one keeps its own, and the rest waits.
        var head = TaskEntry.Parse((string)(await db.ListGetByIndexAsync(Keys.Queue, 0))!, Options);
        Assert.Equal(111, head.Task!.Iterations);
        Assert.Equal(2, head.Task.Attempt);
        Assert.Equal(1, await db.ListLengthAsync(Keys.Queue));
        Assert.False(await db.KeyExistsAsync(Legacy("inflight:old-dead")));
        Assert.Equal("222", (string?)await db.ListGetByIndexAsync(Legacy("inflight:old-alive"), 0));
        Assert.True(await db.KeyExistsAsync(Legacy("stats")));
        Assert.False(await db.KeyExistsAsync(Keys.Layout));

        // The old worker stops (its heartbeat expires); the next recoverer finishes the move.
        await db.KeyDeleteAsync(Legacy("worker:old-alive"));
        var second = new DeadWorkerRecovery(server.Client, Options, "worker-2");
        await second.RecoverAsync();

        Assert.Equal(["111", "222"], (await db.ListRangeAsync(Keys.Queue)).Select(v => TaskEntry.Parse((string)v!, Options).Task!.Iterations.ToString()).Order());
        var stats = (await db.HashGetAllAsync(Keys.Stats)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal("10", stats["enqueued"]);
        Assert.Equal("7", stats["done"]);
        Assert.Equal("2", stats["recovered"]);
        Assert.Equal("2026-11-01T00:00:00Z", stats["lastPurgeAt"]);
        Assert.Equal(["old-dead-1", "old-dead-2", "new-dead"], (await db.ListRangeAsync(Keys.DeadLetters)).Select(v => (string)v!));
        Assert.Equal("old-result", (string?)await db.ListGetByIndexAsync(Keys.Results, 0));
        Assert.Equal("{\"name\":\"ci\"}", (string?)await db.HashGetAsync(Keys.Tokens, "hash-of-token"));
        Assert.Equal("old-audit", (string?)await db.ListGetByIndexAsync(Keys.Audit, 0));
        Assert.Equal("3.14", (string?)await db.HashGetAsync(Keys.TaskStatus("b1-0"), "pi"));
        Assert.InRange((await db.KeyTimeToLiveAsync(Keys.TaskStatus("b1-0")))!.Value, TimeSpan.FromHours(4), TimeSpan.FromHours(5));
        Assert.True(await db.KeyExistsAsync(Keys.Layout));

        var left = new List<string>();
        await foreach (var key in server.Client.GetServer(server.Endpoint).KeysAsync(pattern: _queue + ":*"))
        {
            left.Add(key!);
        }

        Assert.Empty(left);
    }

    [Fact]
    public async Task OnceDone_ItCostsOneLookup_AndAQueueNameWithItsOwnTag_HasNothingToMove()
    {
        await server.Db.StringSetAsync(Keys.Layout, "done");
        await server.Db.HashSetAsync(Legacy("stats"), "done", 1);
        var migration = new KeyLayoutMigration(server.Client, Keys);

        Assert.True(await migration.RunAsync());
        Assert.True(await server.Db.KeyExistsAsync(Legacy("stats"))); // the marker says done: no scan

        var tagged = new QueueKeys("{jobs-" + Guid.NewGuid().ToString("N")[..8] + "}");
        Assert.Equal(tagged.QueueName, tagged.Prefix);
        Assert.True(new KeyLayoutMigration(server.Client, tagged).IsDone);
    }

    [Theory]
    [InlineData("queue:task", "{queue:task}")]
    [InlineData("{jobs}", "{jobs}")]
    [InlineData("app:{jobs}:main", "app:{jobs}:main")]
    [InlineData("a{b", "{a{b}")]
    public void EveryKey_SharesTheListsSlot(string name, string prefix)
    {
        var keys = new QueueKeys(name);
        Assert.Equal(prefix, keys.Prefix);
        Assert.Equal(HashSlot(name), HashSlot(keys.Stats!));
        Assert.Equal(HashSlot(name), HashSlot(keys.InFlight("w")!));
        Assert.Equal(HashSlot(name), HashSlot(keys.Idempotency("ab")!));
    }

    [Theory]
    [InlineData("a}b")]
    [InlineData("x{}y}")]
    [InlineData("empty{}tag")]
    public void ANameWhoseKeysCouldNotShareItsSlot_IsRefused(string name)
    {
        string error = Assert.Single(new QueueOptions { QueueName = name }.Validate());
        Assert.Contains("hash tag", error);
    }

    /// <summary>StackExchange.Redis's own slot function (CRC16 of the hash tag, mod 16384), as a cluster client routes.</summary>
    private int HashSlot(string key) => server.Client.GetHashSlot(key);
}
