using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Queue;

public sealed class StoreOnceFacts_Redis(RedisServer server) : StoreOnceFacts<RedisServer>(server);

public sealed class StoreOnceFacts_Garnet(GarnetServer server) : StoreOnceFacts<GarnetServer>(server);

public sealed class StoreOnceFacts_Cluster(RedisCluster server) : StoreOnceFacts<RedisCluster>(server);

/// <summary>The same facts under protocol 1 (every result in its task's own hash), as while a worker of an earlier version is registered.</summary>
public sealed class StoreOnceFacts_Redis_Protocol1(RedisServer server) : StoreOnceFacts<RedisServer>(server, protocol: 1);

public sealed class StoreOnceFacts_Garnet_Protocol1(GarnetServer server) : StoreOnceFacts<GarnetServer>(server, protocol: 1);

/// <summary>
/// A worker retries a store whose reply it did not get (Redis stalled past the client's timeout, then ran the first try).
/// The retry finds the entry gone from the in-flight list: it must store, publish and count nothing, and say so.
/// </summary>
public abstract class StoreOnceFacts<TServer>(TServer server, int protocol = QueueProtocol.Current) : IClassFixture<TServer>, IAsyncLifetime
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    /// <summary>The protocol the queue's workers agree on, as the recoverers would set it.</summary>
    public Task InitializeAsync() => QueueProtocol.WriteAsync(server.Db, Keys, protocol);

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<TaskStatusRecord?> StatusAsync(string id) => TaskStatusRecord.ReadAsync(server.Db, Keys, id);

    private QueueOptions Options => new() { QueueName = _queue };

    private QueueKeys Keys => new(_queue);

    private WorkerQueue Worker(string id) => new(server.Client, server.Client, Options, id);

    /// <summary>A registered worker with no heartbeat is dead: a recoverer gives its entries back (attempt + 1).</summary>
    private async Task RecoverAsDeadAsync(string worker)
    {
        await server.Db.SetAddAsync(Keys.Workers, worker);
        var recovered = await new DeadWorkerRecovery(server.Client, Options, "recoverer").RecoverAsync();
        Assert.Single(recovered);
    }

    private static TaskResult ResultOf(string raw, string worker) => TestResults.Of(raw, worker, "3", durationMs: 1);

    [Fact]
    public async Task CompleteAndTake_RetriedAfterItsFirstTryStored_StoresPublishesAndCountsNothing_AndSaysSo()
    {
        // An ordered queue of the channel's messages: a sentinel published after the retry arrives after anything it sent.
        var messages = await server.Client.GetSubscriber().SubscribeAsync(Keys.Completions);
        await new TaskProducer(server.Client, Options).EnqueueAsync([100, 200]);
        var worker = Worker("w1");
        var first = await worker.CompleteAndTakeAsync([], 1);
        var finished = new FinishedTask(first.Held[0], ResultOf(first.Held[0], "w1"));

        var stored = await worker.CompleteAndTakeAsync([finished], 1);
        var retried = await worker.CompleteAndTakeAsync([finished], 0);

        Assert.Equal(0, stored.Skipped);
        Assert.Equal(1, retried.Skipped);
        Assert.Single(retried.Held);
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Results));
        // The sentinel is published where the scripts ran (the queue's slot, by a script as they are): in a cluster each
        // PUBLISH reaches the subscriber's node over the cluster bus, in order from one node but not across nodes.
        await server.Db.ScriptEvaluateAsync("return redis.call('PUBLISH', ARGV[1], ARGV[2])", [Keys.Queue], [Keys.Completions.ToString(), "end"]);
        var seen = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (string m; (m = (await messages.ReadAsync(cts.Token)).Message!) != "end";)
        {
            seen.Add(m);
        }

        Assert.Single(seen);
        await messages.UnsubscribeAsync();
    }

    [Fact]
    public async Task CompleteAndTake_ABatch_InTheOrderTaken_StoresEach_AndTakesTheNextInQueueOrder()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([1, 2, 3, 4, 5, 6, 7]);
        var worker = Worker("w1");
        var first = await worker.CompleteAndTakeAsync([], 3);
        Assert.Equal([1L, 2L, 3L], first.Held.Select(h => TaskEntry.Parse(h, Options).Task!.Iterations));

        var second = await worker.CompleteAndTakeAsync([.. first.Held.Select(h => new FinishedTask(h, ResultOf(h, "w1")))], 3);

        Assert.Equal(0, second.Skipped);
        Assert.Equal([4L, 5L, 6L], second.Held.Select(h => TaskEntry.Parse(h, Options).Task!.Iterations));
        Assert.Equal(second.Held, (await server.Db.ListRangeAsync(Keys.InFlight("w1"))).Select(v => (string)v!));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue));
        Assert.Equal(3, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        foreach (var h in first.Held)
        {
            Assert.Equal(TaskState.Done, (await StatusAsync(TaskEntry.Parse(h, Options).Task!.Id))?.State);
        }
    }

    [Fact]
    public async Task CompleteAndTake_ResultsThatAreNotTheHeadOfInFlight_AreStoredEachOnce_AndTheRestStaysInOrder()
    {
        // Out of the order taken, and one of them twice: the script cannot drop the list's head wholesale here.
        await new TaskProducer(server.Client, Options).EnqueueAsync([1, 2, 3, 4]);
        var worker = Worker("w1");
        var held = (await worker.CompleteAndTakeAsync([], 4)).Held;
        var third = new FinishedTask(held[2], ResultOf(held[2], "w1"));
        var first = new FinishedTask(held[0], ResultOf(held[0], "w1"));

        var step = await worker.CompleteAndTakeAsync([third, first, third], 0);

        Assert.Equal(1, step.Skipped);
        Assert.Equal([held[1], held[3]], step.Held);
        Assert.Equal(2, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.Results));
    }

    [Fact]
    public async Task Complete_RetriedAfterItsFirstTryStored_ReturnsFalse_AndCountsOnce()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var worker = Worker("w1");
        var raw = (await worker.TakeAsync(TimeSpan.FromSeconds(1)))!;
        var result = ResultOf(raw, "w1");

        Assert.Equal(StoreOutcome.Stored, await worker.CompleteAsync(raw, result));
        Assert.Equal(StoreOutcome.AlreadyStored, await worker.CompleteAsync(raw, result));
        Assert.False((await server.Db.HashGetAsync(Keys.Stats, "fenced")).HasValue);

        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Results));
    }

    [Fact]
    public async Task CompleteAndTake_OfAnEntryRecoveredForAnotherAttempt_IsRefusedByTheFence_AndCounted()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var late = Worker("w1");
        var held = (await late.CompleteAndTakeAsync([], 1)).Held;
        // w1's heartbeat lapsed (cut off from Redis): a live worker recovers its entry, runs attempt 2 and stores it.
        await RecoverAsDeadAsync("w1");
        var other = Worker("w2");
        var retaken = (await other.CompleteAndTakeAsync([], 1)).Held;
        var kept = ResultOf(retaken[0], "w2");
        await other.CompleteAndTakeAsync([new FinishedTask(retaken[0], kept)], 0);

        // w1 comes back with its result of attempt 1, and tries the store again (its first reply lost).
        var step = await late.CompleteAndTakeAsync([new FinishedTask(held[0], ResultOf(held[0], "w1"))], 0);
        var again = await late.CompleteAndTakeAsync([new FinishedTask(held[0], ResultOf(held[0], "w1"))], 0);
        Assert.Single(again.Fenced);

        Assert.Equal(0, step.Skipped);
        Assert.Equal(1, Assert.Single(step.Fenced).Result.Attempt);
        Assert.Equal(2, kept.Attempt);
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "fenced"));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Results));
        var status = (await StatusAsync(kept.Id))!;
        Assert.Equal((TaskState.Done, "w2", 2), (status.State, status.Worker, status.Attempt));
    }

    [Fact]
    public async Task ALateProcessingStatus_OfAnEarlierAttempt_DoesNotOverwriteTheResultOfALaterOne()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var late = Worker("w1");
        var first = TaskEntry.Parse((await late.CompleteAndTakeAsync([], 1)).Held[0], new QueueOptions()).Task!;
        await RecoverAsDeadAsync("w1");
        var other = Worker("w2");
        var retaken = (await other.CompleteAndTakeAsync([], 1)).Held[0];
        await other.MarkProcessingAsync(TaskEntry.Parse(retaken, new QueueOptions()).Task!);
        Assert.Equal(TaskState.Processing, (await StatusAsync(first.Id))?.State);

        // w1's 'processing' write of attempt 1, delayed in a partition, arrives while attempt 2 runs, then after it is done.
        await late.MarkProcessingAsync(first);
        Assert.Equal("w2", (await StatusAsync(first.Id))?.Worker);
        await other.CompleteAndTakeAsync([new FinishedTask(retaken, ResultOf(retaken, "w2"))], 0);
        await late.MarkProcessingAsync(first);

        var status = (await StatusAsync(first.Id))!;
        Assert.Equal((TaskState.Done, "w2", 2), (status.State, status.Worker, status.Attempt));
    }

    [Fact]
    public async Task Complete_OfAnEntryRecoveredForAnotherAttempt_IsRefusedByTheFence_AndCounted()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var late = Worker("w1");
        var raw = (await late.TakeAsync(TimeSpan.FromSeconds(1)))!;
        await RecoverAsDeadAsync("w1");

        Assert.Equal(StoreOutcome.Fenced, await late.CompleteAsync(raw, ResultOf(raw, "w1")));

        Assert.False((await server.Db.HashGetAsync(Keys.Stats, "done")).HasValue);
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "fenced"));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Results));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task DeadLetter_RetriedAfterItsFirstTryMovedIt_AddsNoSecondLetter()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, "garbage");
        var worker = Worker("w1");
        var raw = (await worker.TakeAsync(TimeSpan.FromSeconds(1)))!;
        var letter = new DeadLetter(raw, "not a number", null, 1, "w1", DateTimeOffset.UtcNow);

        Assert.True(await worker.DeadLetterAsync(raw, letter));
        Assert.False(await worker.DeadLetterAsync(raw, letter));

        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.DeadLetters));
        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "failed"));
    }
}
