using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Queue;

public sealed class StatusRecordFacts_Redis(RedisServer server) : StatusRecordFacts<RedisServer>(server);

public sealed class StatusRecordFacts_Garnet(GarnetServer server) : StatusRecordFacts<GarnetServer>(server);

public sealed class StatusRecordFacts_Cluster(RedisCluster server) : StatusRecordFacts<RedisCluster>(server);

/// <summary>
/// Protocol 2's records: the results of a producer's batch are kept in one hash for the batch (task id to result JSON),
/// not in a hash each; a task's own hash keeps its history; every step that reads or writes a record takes both, and
/// the version is raised only when every live worker speaks it (docs/queue-protocol.md, "Protocol versions").
/// </summary>
public abstract class StatusRecordFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private QueueOptions Options => new() { QueueName = _queue, HeartbeatTtl = TimeSpan.FromSeconds(30) };

    private QueueKeys Keys => new(_queue);

    private IDatabase Db => server.Db;

    private WorkerQueue Worker(string id) => new(server.Client, server.Client, Options, id);

    private Task SpeakAsync(int protocol) => QueueProtocol.WriteAsync(Db, Keys, protocol);

    private Task<TaskStatusRecord?> StatusAsync(string id) => TaskStatusRecord.ReadAsync(Db, Keys, id);

    private static TaskResult ResultOf(string raw, string worker, string pi = "3.1514934010709918126") =>
        TestResults.Of(raw, worker, pi, durationMs: 1.5);

    private static string IdOf(string raw) => TaskEntry.Parse(raw, new QueueOptions()).Task!.Id;

    private RedisKey BatchOf(string id) => Keys.BatchResultsOf(id)!.Value;

    /// <summary>Enqueues tasks as one batch, and has <paramref name="worker"/> take them all: their raw entries.</summary>
    private async Task<IReadOnlyList<string>> TakeAsync(WorkerQueue worker, params long[] iterations)
    {
        await new TaskProducer(server.Client, Options).EnqueueAsync(iterations);
        var held = (await worker.CompleteAndTakeAsync([], iterations.Length)).Held;
        Assert.Equal(iterations.Length, held.Count);
        return held;
    }

    [Fact]
    public async Task UnderProtocol2_ABatchsResults_AreOneHash_WithItsExpiry_AndEachReadsAsItsDoneTask()
    {
        await SpeakAsync(2);
        var worker = Worker("w1");
        var held = await TakeAsync(worker, 100, 200, 300);
        var finished = held.Select(raw => new FinishedTask(raw, ResultOf(raw, "w1"))).ToList();

        var step = await worker.CompleteAndTakeAsync(finished, 0);

        Assert.Equal(0, step.Skipped);
        var batch = BatchOf(finished[0].Result.Id);
        var results = (await Db.ListRangeAsync(Keys.Results)).Select(v => (string)v!).ToHashSet();
        var recorded = await Db.HashGetAllAsync(batch);
        Assert.Equal(finished.Select(f => f.Result.Id).Order(), recorded.Select(e => e.Name.ToString()).Order());
        Assert.All(recorded, e => Assert.Contains(e.Value.ToString(), results));
        Assert.InRange((await Db.KeyTimeToLiveAsync(batch))!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));
        foreach (var (raw, result) in finished)
        {
            Assert.False(await Db.KeyExistsAsync(Keys.TaskStatus(result.Id)));
            var status = (await StatusAsync(result.Id))!;
            Assert.Equal((TaskState.Done, result.Iterations, 1, "w1", result.Pi, 1.5, result.FinishedAt),
                (status.State, status.Iterations, status.Attempt, status.Worker, status.Pi, status.DurationMs, status.FinishedAt));
            var attempt = Assert.Single(status.Attempts);
            Assert.Equal((1, "w1", "done"), (attempt.Number, attempt.Worker, attempt.Outcome));
        }
    }

    [Fact]
    public async Task UnderProtocol1_EachResult_IsInItsTasksOwnHash_AsEveryEarlierVersionReadsIt()
    {
        await SpeakAsync(1);
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 100));
        var result = ResultOf(raw, "w1");

        await worker.CompleteAndTakeAsync([new FinishedTask(raw, result)], 0);

        Assert.False(await Db.KeyExistsAsync(BatchOf(result.Id)));
        Assert.Equal("done", (string?)await Db.HashGetAsync(Keys.TaskStatus(result.Id), "state"));
        Assert.Equal((TaskState.Done, "w1"), ((await StatusAsync(result.Id))!.State, (await StatusAsync(result.Id))!.Worker));
    }

    [Fact]
    public async Task UnderProtocol2_ATaskWhoseIdNamesNoBatch_KeepsItsResultInItsOwnHash()
    {
        await SpeakAsync(2);
        await Db.ListRightPushAsync(Keys.Queue, ["5", """{"id":"client-1","iterations":7}"""]);
        var worker = Worker("w1");
        var held = (await worker.CompleteAndTakeAsync([], 2)).Held;
        var finished = held.Select(raw => new FinishedTask(raw, ResultOf(raw, "w1"))).ToList();

        await worker.CompleteAndTakeAsync(finished, 0);

        foreach (var (_, result) in finished)
        {
            Assert.Null(Keys.BatchResultsOf(result.Id));
            Assert.Equal("done", (string?)await Db.HashGetAsync(Keys.TaskStatus(result.Id), "state"));
            Assert.Equal(TaskState.Done, (await StatusAsync(result.Id))?.State);
        }
    }

    [Fact]
    public async Task UnderProtocol2_ALongTasksOwnHash_KeepsItsHistory_AndItsResultIsInTheBatchsHash()
    {
        await SpeakAsync(2);
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 20_000_000));
        await worker.MarkProcessingAsync(TaskEntry.Parse(raw, Options).Task!);
        var result = ResultOf(raw, "w1");

        await worker.CompleteAndTakeAsync([new FinishedTask(raw, result)], 0);

        Assert.Equal("processing", (string?)await Db.HashGetAsync(Keys.TaskStatus(result.Id), "state"));
        Assert.Equal("w1", (string?)await Db.HashGetAsync(Keys.TaskStatus(result.Id), "a1.worker"));
        Assert.True(await Db.HashExistsAsync(BatchOf(result.Id), result.Id));
        var status = (await StatusAsync(result.Id))!;
        Assert.Equal((TaskState.Done, "w1", result.Pi), (status.State, status.Worker, status.Pi));
        Assert.Equal((1, "w1", "done"), (Assert.Single(status.Attempts).Number, status.Attempts[0].Worker, status.Attempts[0].Outcome));
    }

    [Fact]
    public async Task ALateResult_AgainstABatchRecordedOne_IsFencedAndCountedOnce_AndTheKeptResultStays()
    {
        await SpeakAsync(2);
        var late = Worker("w1");
        string first = Assert.Single(await TakeAsync(late, 100));
        await Db.SetAddAsync(Keys.Workers, "w1"); // registered, no heartbeat: dead
        Assert.Single(await new DeadWorkerRecovery(server.Client, Options, "recoverer").RecoverAsync());
        var other = Worker("w2");
        string retaken = Assert.Single((await other.CompleteAndTakeAsync([], 1)).Held);
        var kept = ResultOf(retaken, "w2", "3.14");
        await other.CompleteAndTakeAsync([new FinishedTask(retaken, kept)], 0);

        var step = await late.CompleteAndTakeAsync([new FinishedTask(first, ResultOf(first, "w1"))], 0);
        var again = await late.CompleteAndTakeAsync([new FinishedTask(first, ResultOf(first, "w1"))], 0);

        Assert.Single(step.Fenced);
        Assert.Single(again.Fenced);
        Assert.Equal(1, (long)await Db.HashGetAsync(Keys.Stats, "fenced"));
        Assert.Equal(1, (long)await Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal(1, await Db.ListLengthAsync(Keys.Results));
        Assert.Equal(QueueJson.Serialize(kept), (string?)await Db.HashGetAsync(BatchOf(kept.Id), kept.Id));
        var status = (await StatusAsync(kept.Id))!;
        Assert.Equal((TaskState.Done, "w2", 2, "3.14"), (status.State, status.Worker, status.Attempt, status.Pi));
        Assert.Equal("w1", (string?)await Db.HashGetAsync(Keys.TaskStatus(kept.Id), "a1.fenced"));
    }

    [Fact]
    public async Task ARetriedStore_FindsItsOwnResultInTheBatchsHash_AndStoresNothingAgain()
    {
        await SpeakAsync(2);
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 100));
        var finished = new FinishedTask(raw, ResultOf(raw, "w1"));

        await worker.CompleteAndTakeAsync([finished], 0);
        var retried = await worker.CompleteAndTakeAsync([finished], 0);

        Assert.Equal(1, retried.Skipped);
        Assert.Empty(retried.Fenced);
        Assert.Equal(1, (long)await Db.HashGetAsync(Keys.Stats, "done"));
        Assert.False((await Db.HashGetAsync(Keys.Stats, "fenced")).HasValue);
        Assert.False(await Db.KeyExistsAsync(Keys.TaskStatus(finished.Result.Id)));
    }

    [Fact]
    public async Task ARecoverersWrite_AndALateProcessingMark_LeaveADoneTaskDone()
    {
        await SpeakAsync(2);
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 100));
        var result = ResultOf(raw, "w1");
        await worker.CompleteAndTakeAsync([new FinishedTask(raw, result)], 0);

        long recovererWrote = (long)await Db.ScriptEvaluateAsync(QueueScripts.SetStatusUnlessDone, Keys.StatusKeys(result.Id),
            [3600, result.Id, "state", "queued", "attempt", 2]);
        await worker.MarkProcessingAsync(TaskEntry.Parse(raw, Options).Task!);

        Assert.Equal(0, recovererWrote);
        Assert.False(await Db.KeyExistsAsync(Keys.TaskStatus(result.Id)));
        Assert.Equal(TaskState.Done, (await StatusAsync(result.Id))?.State);
    }

    [Fact]
    public async Task BackUnderProtocol1_ALaterResult_GoesToTheTasksOwnHash_AndIsTheOneRead()
    {
        await SpeakAsync(2);
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 100));
        await worker.CompleteAndTakeAsync([new FinishedTask(raw, ResultOf(raw, "w1", "3.1"))], 0);
        await SpeakAsync(1); // a worker of an earlier version joined
        await Db.ListRightPushAsync(Keys.InFlight("w1"), raw); // the same entry again, as a task enqueued twice

        var step = await worker.CompleteAndTakeAsync([new FinishedTask(raw, ResultOf(raw, "w1", "3.2"))], 0);

        Assert.Equal(0, step.Skipped);
        Assert.Equal(2, (long)await Db.HashGetAsync(Keys.Stats, "done"));
        Assert.Equal("done", (string?)await Db.HashGetAsync(Keys.TaskStatus(IdOf(raw)), "state"));
        Assert.Equal("3.2", (await StatusAsync(IdOf(raw)))!.Pi);
    }

    private WorkerHeartbeat Beat(string id, int? protocol) =>
        new(id, "host", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, 0, 0, "idle", protocol);

    private async Task BeatAsync(string id, int? protocol) => await Worker(id).BeatAsync(Beat(id, protocol));

    [Fact]
    public async Task TheRecoverers_RaiseTheProtocol_OnlyWhenEveryLiveWorkerSpeaksIt_AndLowerItForAnOlderOne()
    {
        var recovery = new DeadWorkerRecovery(server.Client, Options, "w1");
        await BeatAsync("w1", QueueProtocol.Current);
        await BeatAsync("w2", QueueProtocol.Current);

        await recovery.RecoverAsync("w1");
        Assert.Equal("2", (string?)await Db.StringGetAsync(Keys.Protocol));

        // A worker of the earlier version: its heartbeat has no protocol field (QueueJson leaves a null out).
        await BeatAsync("w3", null);
        Assert.DoesNotContain("protocol", (string?)await Db.StringGetAsync(Keys.Heartbeat("w3")));
        await recovery.RecoverAsync("w1");
        Assert.False(await Db.KeyExistsAsync(Keys.Protocol));

        // While it is registered, a result goes to the task's own hash, which its scripts and its dashboard read.
        var worker = Worker("w1");
        string raw = Assert.Single(await TakeAsync(worker, 100));
        var result = ResultOf(raw, "w1");
        await worker.CompleteAndTakeAsync([new FinishedTask(raw, result)], 0);
        Assert.Equal("done", (string?)await Db.HashGetAsync(Keys.TaskStatus(result.Id), "state"));
        Assert.False(await Db.KeyExistsAsync(BatchOf(result.Id)));

        // Gone without a heartbeat (dead, not yet recovered): nothing changes until the recovery removes it.
        await Db.KeyDeleteAsync(Keys.Heartbeat("w3"));
        await BeatAsync("w4", QueueProtocol.Current);
        await Db.SetAddAsync(Keys.Workers, "w5"); // registered, never beat
        Assert.False(await Db.KeyExistsAsync(Keys.Protocol));
        await recovery.RecoverAsync("w1"); // recovers w3 and w5; w2 and w4 speak 2, but the round saw two without heartbeat
        Assert.False(await Db.KeyExistsAsync(Keys.Protocol));
        await recovery.RecoverAsync("w1");
        Assert.Equal("2", (string?)await Db.StringGetAsync(Keys.Protocol));
    }

    [Fact]
    public async Task ARealWorker_RaisesTheProtocol_AndRecordsItsResultsPerBatch_ReadAsDone()
    {
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, _queue));
        await Eventually.WaitAsync(async () => (string?)await Db.StringGetAsync(Keys.Protocol) == "2", TimeSpan.FromSeconds(60),
            () => $"the worker's recovery round to raise the protocol\n{worker.Output}");

        var ids = await new TaskProducer(server.Client, Options).EnqueueAsync([1000, 2000]);

        await Eventually.WaitAsync(async () => (await StatusAsync(ids[1]))?.State == TaskState.Done, TimeSpan.FromSeconds(60),
            () => $"both tasks done\n{worker.Output}");
        Assert.Equal(2, await Db.HashLengthAsync(BatchOf(ids[1])));
        Assert.Equal((1000L, TaskState.Done), ((await StatusAsync(ids[0]))!.Iterations, (await StatusAsync(ids[0]))!.State));
    }
}
