using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Queue;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Web;

public sealed class QueueServiceFacts_Redis(RedisServer server) : QueueServiceFacts<RedisServer>(server);

public sealed class QueueServiceFacts_Garnet(GarnetServer server) : QueueServiceFacts<GarnetServer>(server);

public sealed class QueueServiceFacts_Cluster(RedisCluster server) : QueueServiceFacts<RedisCluster>(server);

/// <summary>The dashboard's services (monitor and operations) against real servers: redis-server and Garnet.</summary>
public abstract class QueueServiceFacts<TServer>(TServer server) : IClassFixture<TServer>, IAsyncLifetime
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;
    private QueueKeys Keys => new(_queue);
    private IQueueState State => _app.Services.GetRequiredService<IQueueState>();
    private IQueueOperations Ops => _app.QueueActions;

    public async Task InitializeAsync() => _app = await DashboardApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task WaitForAsync(Func<QueueSnapshot, bool> condition, string what) =>
        Eventually.WaitAsync(() => condition(State.Current), TimeSpan.FromSeconds(15), what);

    [Fact]
    public async Task Snapshot_FollowsDepthDeadLettersPauseAndHead()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["5", """{"iterations":6,"enqueuedAt":"2020-01-01T00:00:00Z"}"""]);
        await server.Db.ListRightPushAsync(Keys.DeadLetters, "x");

        await WaitForAsync(s => s.Depth == 2 && s.DeadLetters == 1 && s.Head.Count == 2, "depth, dead letters and head");
        await Ops.SetPausedAsync(true);
        await WaitForAsync(s => s.Paused, "paused");
        await Ops.SetPausedAsync(false);
        await WaitForAsync(s => !s.Paused, "resumed");
        Assert.True(State.Current.OldestAge > TimeSpan.Zero);
    }

    [Fact]
    public async Task Snapshot_ShowsLiveWorkers_AndRecoversALostOnesTask()
    {
        var alive = new WorkerQueue(server.Client, server.Client, new QueueOptions { QueueName = _queue, HeartbeatTtl = TimeSpan.FromSeconds(60) }, "alive-1");
        await alive.BeatAsync(new WorkerHeartbeat("alive-1", "h", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow,
            new CurrentTask("t-1", 100, DateTimeOffset.UtcNow, 50), 3, 0, "busy"));
        await server.Db.SetAddAsync(Keys.Workers, "gone-1");
        await server.Db.ListRightPushAsync(Keys.InFlight("gone-1"), "777");

        await WaitForAsync(s => s.Workers.Any(w => w.Id == "alive-1" && !w.Lost && w.CurrentTask!.Progress == 0.5),
            "the live worker with its progress");
        await WaitForAsync(s => s.Workers.Any(w => w.Id == "gone-1" && w.Lost && w.LostNote!.Contains("1 task(s) put back")),
            "the lost worker, recovered");
        var head = TaskEntry.Parse((string)(await server.Db.ListGetByIndexAsync(Keys.Queue, 0))!, new QueueOptions());
        Assert.Equal(777, head.Task!.Iterations);
        Assert.Equal(2, head.Task.Attempt);
    }

    [Fact]
    public async Task RedisGoingAway_IsReported_AndTheMonitorRecoversByItself()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "1");
        await WaitForAsync(s => s.RedisAvailable && s.Depth == 1, "a first sample");

        var restart = server.RestartAsync(TimeSpan.FromSeconds(3));
        await WaitForAsync(s => !s.RedisAvailable && s.RedisError!.Contains("is not answering"), "the outage to be reported");
        await restart;

        await WaitForAsync(s => s.RedisAvailable && s.Depth == 1, "the monitor to recover, with the queue kept");
    }

    [Fact]
    public async Task Throughput_IsMeasuredFromCompletions()
    {
        var worker = new WorkerQueue(server.Client, server.Client, new QueueOptions { QueueName = _queue }, "w");
        // Forty completions at a steady 40 a second: a rate, not a wait.
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        for (int i = 0; i < 40 && await pace.WaitForNextTickAsync(); i++)
        {
            var now = DateTimeOffset.UtcNow;
            await worker.CompleteAsync("", new TaskResult($"t{i}", 1, "4", 1, "w", 1, null, now, now));
        }

        await WaitForAsync(s => s.Totals.Done == 40 && s.DonePerSecond > 1, "a done rate");
    }

    [Fact]
    public async Task Enqueue_Batch_PeekHeadAndTail_Purge()
    {
        var progress = new List<int>();
        var outcome = await Ops.EnqueueManyAsync(Enumerable.Range(1, 2500).Select(i => (long)i).ToArray(), EntryFormat.Plain,
            new SyncProgress(progress.Add));

        Assert.Equal(2500, outcome.Count);
        Assert.Equal(2500, outcome.QueueDepth);
        Assert.Equal([1000, 2000, 2500], progress);
        var head = await Ops.PeekAsync(QueueEnd.Head, 0, 3);
        Assert.Equal([1L, 2, 3], head.Items.Select(i => i.Iterations!.Value));
        var tail = await Ops.PeekAsync(QueueEnd.Tail, 0, 3);
        Assert.Equal([2498L, 2499, 2500], tail.Items.Select(i => i.Iterations!.Value));
        Assert.Equal(2497, tail.Items[0].Index);
        var page = await Ops.PeekAsync(QueueEnd.Head, 0, 100_000);
        Assert.Equal(QueueOperations.MaxPageSize, page.Items.Count); // bounded

        await server.Db.ListRightPushAsync(Keys.Queue, "new");
        Assert.Equal(2500, await Ops.PurgeAsync(2500));
        Assert.Equal(["new"], (await server.Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!)); // arrived after the count: kept
    }

    [Fact]
    public async Task Enqueue_OverTheMaximumBatch_EnqueuesNothing()
    {
        await Assert.ThrowsAsync<OperatorActionException>(() => Ops.EnqueueAsync(5, Ops.MaxBatch + 1, EntryFormat.Envelope));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task DeadLetters_RetryDeleteAndCorrect()
    {
        var now = DateTimeOffset.UtcNow;
        string good = QueueJson.Serialize(new DeadLetter("""{"id":"t-a","iterations":9,"attempt":3}""", "no attempts left", "t-a", 3, "w", now));
        string bad = QueueJson.Serialize(new DeadLetter("5,000", "not a whole number", null, 1, "w", now));
        string other = QueueJson.Serialize(new DeadLetter("zzz", "not a whole number", null, 1, "w", now));
        await server.Db.ListRightPushAsync(Keys.DeadLetters, [good, bad, other]);

        var page = await Ops.DeadLettersAsync(0, 10);
        Assert.Equal(3, page.Total);
        Assert.NotNull(page.Items[0].RetryEntry);
        Assert.Null(page.Items[1].RetryEntry);
        Assert.Equal("5000", page.Items[1].SuggestedIterations);

        await Ops.RetryDeadLetterAsync(good);
        var retried = TaskEntry.Parse((string)(await server.Db.ListGetByIndexAsync(Keys.Queue, -1))!, new QueueOptions());
        Assert.Equal(("t-a", 1), (retried.Task!.Id, retried.Task.Attempt)); // attempts start again

        await Assert.ThrowsAsync<OperatorActionException>(() => Ops.RetryDeadLetterAsync(bad));
        string? ranAs = await Ops.RetryDeadLetterAsync(bad, 5000);
        var corrected = TaskEntry.Parse((string)(await server.Db.ListGetByIndexAsync(Keys.Queue, -1))!, new QueueOptions());
        Assert.Equal(5000, corrected.Task!.Iterations);
        Assert.Equal(corrected.Task.Id, ranAs); // the id the page names

        await Ops.DeleteDeadLetterAsync(other);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.DeadLetters));
        await Assert.ThrowsAsync<OperatorActionException>(() => Ops.DeleteDeadLetterAsync(other));
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
