using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Queue;

public sealed class StoreOnceFacts_Redis(RedisServer server) : StoreOnceFacts<RedisServer>(server);

public sealed class StoreOnceFacts_Garnet(GarnetServer server) : StoreOnceFacts<GarnetServer>(server);

/// <summary>
/// A worker retries a store whose reply it did not get (Redis stalled past the client's timeout, then ran the first try).
/// The retry finds the entry gone from the in-flight list: it must store, publish and count nothing, and say so.
/// </summary>
public abstract class StoreOnceFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private QueueOptions Options => new() { QueueName = _queue };

    private QueueKeys Keys => new(_queue);

    private WorkerQueue Worker(string id) => new(server.Client, server.Client, Options, id);

    private static TaskResult ResultOf(string raw, string worker)
    {
        var task = TaskEntry.Parse(raw, new QueueOptions()).Task!;
        var now = DateTimeOffset.UtcNow;
        return new TaskResult(task.Id, task.Iterations, "3", 1, worker, task.Attempt, task.EnqueuedAt, now, now);
    }

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
        await server.Client.GetSubscriber().PublishAsync(Keys.Completions, "end");
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
    public async Task Complete_RetriedAfterItsFirstTryStored_ReturnsFalse_AndCountsOnce()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var worker = Worker("w1");
        var raw = (await worker.TakeAsync(TimeSpan.FromSeconds(1)))!;
        var result = ResultOf(raw, "w1");

        Assert.True(await worker.CompleteAsync(raw, result));
        Assert.False(await worker.CompleteAsync(raw, result));

        Assert.Equal(1, (long)await server.Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.Results));
    }

    [Fact]
    public async Task CompleteAndTake_OfAnEntryRecoveredForAnotherAttempt_StoresNothing()
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync([100]);
        var worker = Worker("w1");
        var held = (await worker.CompleteAndTakeAsync([], 1)).Held;
        // A recoverer moved it on (its heartbeat lapsed during the stall): the next attempt stores the result.
        await server.Db.KeyDeleteAsync(Keys.InFlight("w1"));

        var step = await worker.CompleteAndTakeAsync([new FinishedTask(held[0], ResultOf(held[0], "w1"))], 0);

        Assert.Equal(1, step.Skipped);
        Assert.False((await server.Db.HashGetAsync(Keys.Stats, "done")).HasValue);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Results));
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
