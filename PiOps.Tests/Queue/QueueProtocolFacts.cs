using System.Text.Json;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Queue;

public sealed class QueueProtocolFacts_Redis(RedisServer server) : QueueProtocolFacts<RedisServer>(server);

public sealed class QueueProtocolFacts_Garnet(GarnetServer server) : QueueProtocolFacts<GarnetServer>(server);

/// <summary>On a real three-primary Redis Cluster: every script and MULTI must stay in the queue's one slot.</summary>
public sealed class QueueProtocolFacts_Cluster(RedisCluster server) : QueueProtocolFacts<RedisCluster>(server);

/// <summary>The protocol's steps against a real server; the same facts run on redis-server and on Garnet.</summary>
public abstract class QueueProtocolFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private QueueOptions Options => new() { QueueName = _queue, HeartbeatTtl = TimeSpan.FromSeconds(3), MaxAttempts = 3 };

    private QueueKeys Keys => new(_queue);

    private WorkerQueue Worker(string id) => new(server.Client, server.Client, Options, id);

    [Fact]
    public async Task Enqueue_ThenTake_IsFifo_AndMovesToInFlight()
    {
        var producer = new TaskProducer(server.Client, Options);
        var ids = await producer.EnqueueAsync([10, 20, 30]);
        var worker = Worker("w1");

        var first = await worker.TakeAsync(TimeSpan.FromSeconds(1));

        var envelope = JsonSerializer.Deserialize<TaskEnvelope>(first!);
        Assert.Equal(ids[0], envelope!.Id);
        Assert.Equal(10, envelope.Iterations);
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.Queue));
        Assert.Equal(first, (string?)await server.Db.ListGetByIndexAsync(Keys.InFlight("w1"), 0));
        Assert.True(TaskIds.TryGetBatch(ids[1], out string batch));
        Assert.Equal(ids[1], batch + "-1");
        var status = TaskStatusRecord.FromBatch(ids[1], await server.Db.HashGetAllAsync(Keys.Batch(batch)), null);
        Assert.Equal(TaskState.Queued, status!.State);
        Assert.Null(status.Iterations); // 10, 20, 30: mixed
        Assert.True(await server.Db.KeyTimeToLiveAsync(Keys.Batch(batch)) > TimeSpan.FromHours(23));
        Assert.Equal(3, (long)await server.Db.HashGetAsync(Keys.Stats, "enqueued"));
    }

    [Fact]
    public async Task Enqueue_Plain_WritesBareIntegers_TheBooksWorkerCanRead()
    {
        var producer = new TaskProducer(server.Client, Options);
        await producer.EnqueueAsync([5000000, 7], EntryFormat.Plain);

        var all = await server.Db.ListRangeAsync(Keys.Queue);
        Assert.Equal(["5000000", "7"], all.Select(v => (string)v!));
    }

    [Fact]
    public async Task Enqueue_AcrossBatches_GivesEachTaskItsOwnId_InQueueOrder_AndItsBatchRecord()
    {
        // 2,345 tasks: three batches, the last one partial, with counts of every length.
        long[] counts = Enumerable.Range(0, 2345).Select(i => (long)i * 7919 % 100_000_000_000).ToArray();
        var ids = await new TaskProducer(server.Client, Options).EnqueueAsync(counts);

        var all = (await server.Db.ListRangeAsync(Keys.Queue)).Select(v => TaskEntry.Parse(v!, Options).Task!).ToList();
        Assert.Equal(counts.Length, ids.Count);
        Assert.Equal(ids, all.Select(t => t.Id));
        Assert.Equal(ids, ids.ToList()); // the indexer and the enumerator agree
        Assert.Equal(counts.Length, ids.Distinct().Count());
        Assert.Equal(counts, all.Select(t => t.Iterations));
        Assert.All(all, t => Assert.Equal(1, t.Attempt));
        Assert.All(all, t => Assert.NotNull(t.EnqueuedAt));
        foreach (int i in new[] { 0, 999, 1000, 2344 })
        {
            Assert.True(TaskIds.TryGetBatch(ids[i], out string batch));
            Assert.Equal(batch + "-" + (i % TaskProducer.BatchSize), ids[i]);
            var status = TaskStatusRecord.FromBatch(ids[i], await server.Db.HashGetAllAsync(Keys.Batch(batch)), null);
            Assert.Equal(TaskState.Queued, status!.State);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => ids[counts.Length]);
    }

    [Fact]
    public async Task Enqueue_Plain_AcrossBatches_GivesEmptyIds_AndBareIntegers()
    {
        long[] counts = Enumerable.Range(1, 1500).Select(i => (long)i).ToArray();
        var ids = await new TaskProducer(server.Client, Options).EnqueueAsync(counts, EntryFormat.Plain);

        Assert.Equal(Enumerable.Repeat("", counts.Length), ids);
        var all = await server.Db.ListRangeAsync(Keys.Queue);
        Assert.Equal(counts.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)), all.Select(v => (string)v!));
    }

    [Fact]
    public async Task Enqueue_RejectsWholeBatch_WhenOneCountIsOutOfRange()
    {
        var producer = new TaskProducer(server.Client, Options);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => producer.EnqueueAsync([1, 2, -1]));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Take_ReturnsNull_WhenQueueStaysEmpty()
    {
        Assert.Null(await Worker("w1").TakeAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Complete_StoresResultStatusAndCount_PublishesIt_AndEmptiesInFlight()
    {
        var received = new TaskCompletionSource<string>();
        var sub = server.Client.GetSubscriber();
        await sub.SubscribeAsync(Keys.Completions, (_, v) => received.TrySetResult(v!));
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var worker = Worker("w1");
        var raw = await worker.TakeAsync(TimeSpan.FromSeconds(1));
        var task = TaskEntry.Parse(raw!, Options).Task!;
        var now = DateTimeOffset.UtcNow;
        var result = new TaskResult(task.Id, 100, "3.1514934010709918126", 1.5, "w1", 1, task.EnqueuedAt, now, now);

        await worker.CompleteAsync(raw!, result);

        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.InFlight("w1")));
        var stored = JsonSerializer.Deserialize<TaskResult>((string)(await server.Db.ListGetByIndexAsync(Keys.Results, 0))!);
        Assert.Equal(result, stored);
        var status = TaskStatusRecord.FromHash(task.Id, await server.Db.HashGetAllAsync(Keys.TaskStatus(task.Id)));
        Assert.Equal(TaskState.Done, status!.State);
        Assert.Equal("3.1514934010709918126", status.Pi);
        // A finished task still says when it was enqueued (its batch record is not read once the task has its own).
        Assert.NotNull(task.EnqueuedAt);
        Assert.Equal(task.EnqueuedAt!.Value.ToUnixTimeMilliseconds(), status.EnqueuedAt?.ToUnixTimeMilliseconds());
        Assert.True(await server.Db.KeyTimeToLiveAsync(Keys.TaskStatus(task.Id)) > TimeSpan.FromHours(23));
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        var published = await received.Task.Within(TimeSpan.FromSeconds(5), "completion message");
        Assert.Contains(task.Id, published);
    }

    [Fact]
    public async Task Results_AreBounded()
    {
        var options = Options;
        options.ResultsToKeep = 3;
        var worker = new WorkerQueue(server.Client, server.Client, options, "w1");
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < 5; i++)
        {
            await worker.CompleteAsync("", new TaskResult($"t{i}", i, "4", 0, "w1", 1, null, now, now));
        }

        var kept = await server.Db.ListRangeAsync(Keys.Results);
        Assert.Equal(3, kept.Length);
        Assert.Contains("\"t4\"", (string)kept[0]!);
    }

    [Fact]
    public async Task ResultsStoredInOneRoundTrip_AreBounded_NewestFirst_AndEachPublished()
    {
        var options = Options;
        options.ResultsToKeep = 3;
        var published = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await server.Client.GetSubscriber().SubscribeAsync(Keys.Completions, (_, v) => published.Enqueue(v!));
        await new TaskProducer(server.Client, options).EnqueueAsync([1, 2, 3, 4, 5]);
        var worker = new WorkerQueue(server.Client, server.Client, options, "w1");
        var held = (await worker.CompleteAndTakeAsync([], 5)).Held;
        var now = DateTimeOffset.UtcNow;
        var finished = held.Select(raw => TaskEntry.Parse(raw, options).Task!)
            .Select((t, i) => new FinishedTask(held[i], new TaskResult(t.Id, t.Iterations, "4", 0, "w1", 1, t.EnqueuedAt, now, now))).ToList();

        var step = await worker.CompleteAndTakeAsync(finished, 0);

        Assert.Empty(step.Held);
        var kept = (await server.Db.ListRangeAsync(Keys.Results)).Select(v => QueueJson.Deserialize<TaskResult>(v!)!.Id);
        Assert.Equal(finished.Select(f => f.Result.Id).Reverse().Take(3), kept);
        Assert.Equal(5, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        await Eventually.WaitAsync(() => Task.FromResult(published.Count == 5), TimeSpan.FromSeconds(10), "five completions published");
        // Each once; StackExchange.Redis' callback subscriptions run handlers concurrently, so their order says nothing.
        Assert.Equal(finished.Select(f => f.Result.Id).Order(), published.Select(p => QueueJson.Deserialize<TaskResult>(p)!.Id).Order());
    }

    [Fact]
    public async Task DeadLetter_MovesEntryFromInFlight_WithReason()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "garbage");
        var worker = Worker("w1");
        var raw = await worker.TakeAsync(TimeSpan.FromSeconds(1));

        await worker.DeadLetterAsync(raw!, new DeadLetter(raw!, "not a number", null, 1, "w1", DateTimeOffset.UtcNow));

        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.InFlight("w1")));
        var dead = JsonSerializer.Deserialize<DeadLetter>((string)(await server.Db.ListGetByIndexAsync(Keys.DeadLetters, 0))!);
        Assert.Equal("garbage", dead!.Entry);
        Assert.Equal("not a number", dead.Reason);
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "failed"));
    }

    [Fact]
    public async Task Recover_RequeuesDeadWorkersTask_AtHead_WithNextAttempt()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["5000000", "6"]);
        await TakeAsync("dead", dies: true);

        var recovered = await new DeadWorkerRecovery(server.Client, Options, "live").RecoverAsync("live");

        Assert.Equal([new Recovered("dead", 1, 0)], recovered);
        var head = TaskEntry.Parse((string)(await server.Db.ListGetByIndexAsync(Keys.Queue, 0))!, Options);
        Assert.Equal(5000000, head.Task!.Iterations);
        Assert.Equal(2, head.Task.Attempt);
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.Queue));
        Assert.False(await server.Db.KeyExistsAsync(Keys.InFlight("dead")));
        Assert.False(await server.Db.SetContainsAsync(Keys.Workers, "dead"));
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "recovered"));
    }

    [Fact]
    public async Task ADoneRecord_IsFourFields_TheResultKeptWhole_AndReadsBackEveryValue()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var worker = Worker("w1");
        var raw = (await worker.CompleteAndTakeAsync([], 1)).Held[0];
        var task = TaskEntry.Parse(raw, Options).Task!;
        var started = DateTimeOffset.UtcNow.AddMilliseconds(-3);
        var result = new TaskResult(task.Id, 100, "3.1514934010709918126", 2.25, "w1", 1, task.EnqueuedAt, started, started.AddMilliseconds(2.25));

        await worker.CompleteAndTakeAsync([new FinishedTask(raw, result)], 0);

        var hash = await server.Db.HashGetAllAsync(Keys.TaskStatus(task.Id));
        Assert.Equal(["attempt", "result", "state", "worker"], hash.Select(e => e.Name.ToString()).Order());
        Assert.Equal((string?)await server.Db.ListGetByIndexAsync(Keys.Results, 0), hash.Single(e => e.Name == "result").Value.ToString());
        var status = TaskStatusRecord.FromHash(task.Id, hash)!;
        Assert.Equal((TaskState.Done, 100L, 1, "w1", "3.1514934010709918126", 2.25),
            (status.State, status.Iterations, status.Attempt, status.Worker, status.Pi, status.DurationMs));
        Assert.Equal((result.EnqueuedAt, result.StartedAt, result.FinishedAt, result.FinishedAt),
            (status.EnqueuedAt, status.StartedAt, status.FinishedAt, status.UpdatedAt));
        var attempt = Assert.Single(status.Attempts);
        Assert.Equal((1, "w1", result.StartedAt, result.FinishedAt, "done"),
            (attempt.Number, attempt.Worker, attempt.StartedAt, attempt.FinishedAt, attempt.Outcome));
    }

    [Fact]
    public async Task ADoneRecordOfAnEarlierLayout_OneFieldPerValue_StillReads()
    {
        // Written by a worker from before the result was kept whole, still in Redis during a rolling upgrade.
        string id = "t-" + Guid.NewGuid().ToString("N");
        await server.Db.HashSetAsync(Keys.TaskStatus(id),
        [
            new("state", "done"), new("iterations", 100), new("attempt", 1), new("worker", "w0"),
            new("pi", "3.1514934010709918126"), new("durationMs", "1.5"), new("startedAt", "2026-12-01T10:00:00.0000000Z"),
            new("finishedAt", "2026-12-01T10:00:01.0000000Z"), new("updatedAt", "2026-12-01T10:00:01.0000000Z"),
            new("a1.worker", "w0"), new("a1.startedAt", "2026-12-01T10:00:00.0000000Z"),
            new("a1.finishedAt", "2026-12-01T10:00:01.0000000Z"), new("a1.outcome", "done"),
        ]);

        var status = TaskStatusRecord.FromHash(id, await server.Db.HashGetAllAsync(Keys.TaskStatus(id)))!;

        Assert.Equal((TaskState.Done, 100L, "w0", "3.1514934010709918126", 1.5),
            (status.State, status.Iterations, status.Worker, status.Pi, status.DurationMs));
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T10:00:01Z"), status.FinishedAt);
        Assert.Equal((1, "w0", "done"), (status.Attempts[0].Number, status.Attempts[0].Worker, status.Attempts[0].Outcome));
    }

    [Fact]
    public async Task ATasksHash_KeepsEveryAttempt_ItsWorker_AndHowItEnded()
    {
        var ids = await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var first = Worker("pi-worker-a-111");
        await first.BeatAsync(Beat("pi-worker-a-111"));
        var raw = await first.TakeAsync(TimeSpan.FromSeconds(1));
        await first.MarkProcessingAsync(TaskEntry.Parse(raw!, Options).Task!);
        await server.Db.KeyDeleteAsync(Keys.Heartbeat("pi-worker-a-111")); // it dies mid-task
        await new DeadWorkerRecovery(server.Client, Options, "live").RecoverAsync("live");

        var second = Worker("pi-worker-b-222");
        var again = await second.TakeAsync(TimeSpan.FromSeconds(1));
        var task = TaskEntry.Parse(again!, Options).Task!;
        await second.MarkProcessingAsync(task);
        var now = DateTimeOffset.UtcNow;
        await second.CompleteAsync(again!, new TaskResult(task.Id, 100, "3.1514934010709918126", 1, "pi-worker-b-222", task.Attempt, task.EnqueuedAt, now, now));

        var status = TaskStatusRecord.FromHash(ids[0], await server.Db.HashGetAllAsync(Keys.TaskStatus(ids[0])))!;
        Assert.Equal(2, status.Attempts.Count);
        Assert.Equal((1, "pi-worker-a-111"), (status.Attempts[0].Number, status.Attempts[0].Worker));
        Assert.StartsWith("its worker was lost", status.Attempts[0].Outcome);
        Assert.Equal((2, "pi-worker-b-222", "done"), (status.Attempts[1].Number, status.Attempts[1].Worker, status.Attempts[1].Outcome));
        Assert.NotNull(status.Attempts[1].FinishedAt);
    }

    [Fact]
    public async Task Recover_NeverTurnsADoneTaskBackToQueued()
    {
        // The recoverer writes statuses after its script; a live worker may have taken the requeued entry and finished
        // it in between. Seen under random SIGKILLs: done tasks whose status said 'queued'.
        string id = "raced-1";
        await server.Db.ListRightPushAsync(Keys.Queue, $$"""{"id":"{{id}}","iterations":9}""");
        await TakeAsync("dead", dies: true);
        await server.Db.HashSetAsync(Keys.TaskStatus(id), [new("state", "done"), new("pi", "3.1")]);

        await new DeadWorkerRecovery(server.Client, Options, "live").RecoverAsync();

        Assert.Equal("done", (string?)await server.Db.HashGetAsync(Keys.TaskStatus(id), "state"));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue)); // the entry itself is still given back
    }

    [Fact]
    public async Task Recover_DeadLetters_WhenAttemptsAreUsedUp()
    {
        string id = "poison-1";
        await server.Db.ListRightPushAsync(Keys.Queue, $$"""{"id":"{{id}}","iterations":9,"attempt":3}""");
        await TakeAsync("dead", dies: true);

        await new DeadWorkerRecovery(server.Client, Options, "live").RecoverAsync();

        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
        var letter = JsonSerializer.Deserialize<DeadLetter>((string)(await server.Db.ListGetByIndexAsync(Keys.DeadLetters, 0))!);
        Assert.Equal(id, letter!.TaskId);
        Assert.Contains("no attempts left", letter.Reason);
        var status = TaskStatusRecord.FromHash(id, await server.Db.HashGetAllAsync(Keys.TaskStatus(id)));
        Assert.Equal(TaskState.Dead, status!.State);
    }

    [Fact]
    public async Task Recover_LeavesLiveWorkersAlone()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "5");
        await TakeAsync("alive", dies: false);

        var recovered = await new DeadWorkerRecovery(server.Client, Options, "other").RecoverAsync("other");

        Assert.Empty(recovered);
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.InFlight("alive")));
    }

    [Fact]
    public async Task Recover_ByManyAtOnce_RequeuesEachTaskOnce()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "77");
        await TakeAsync("dead", dies: true);

        var all = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(i => new DeadWorkerRecovery(server.Client, Options, $"r{i}").RecoverAsync($"r{i}")));

        Assert.Equal(1, all.Sum(r => r.Sum(x => x.Requeued)));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task ReturnInFlight_PutsEntriesBackAtHead_Unchanged()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["1", "2", "3"]);
        var worker = Worker("w1");
        await worker.TakeAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(1, await worker.ReturnInFlightAsync());
        Assert.Equal(["1", "2", "3"], (await server.Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!));
    }

    [Fact]
    public async Task Heartbeat_Expires_AndRegistersWorker()
    {
        var options = Options;
        options.HeartbeatTtl = TimeSpan.FromSeconds(2);
        var worker = new WorkerQueue(server.Client, server.Client, options, "w1");
        await worker.BeatAsync(Beat("w1"));

        Assert.True(await server.Db.SetContainsAsync(Keys.Workers, "w1"));
        var ttl = await server.Db.KeyTimeToLiveAsync(Keys.Heartbeat("w1"));
        Assert.InRange(ttl!.Value.TotalSeconds, 0.5, 2);
        await Eventually.WaitAsync(async () => !await server.Db.KeyExistsAsync(Keys.Heartbeat("w1")),
            TimeSpan.FromSeconds(10), "heartbeat expiry");
    }

    [Fact]
    public async Task DrainState_CountsOtherWorkersInFlight()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "1");
        await TakeAsync("other", dies: false);

        var state = await Worker("me").GetDrainStateAsync();

        Assert.Equal(new DrainState(0, 1), state);
        Assert.False(state.IsDrained);
    }

    /// <summary>A registered, beating worker takes the head of the queue; with <paramref name="dies"/> its heartbeat then expires.</summary>
    private async Task TakeAsync(string workerId, bool dies)
    {
        var worker = Worker(workerId);
        await worker.BeatAsync(Beat(workerId));
        Assert.NotNull(await worker.TakeAsync(TimeSpan.FromSeconds(1)));
        if (dies)
        {
            await server.Db.KeyDeleteAsync(Keys.Heartbeat(workerId));
        }
    }

    private static WorkerHeartbeat Beat(string id) =>
        new(id, "host", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, 0, 0, "idle");
}
