using System.Text.Json;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Worker;

public sealed class WorkerProcessFacts_Redis(RedisServer server) : WorkerProcessFacts<RedisServer>(server);

public sealed class WorkerProcessFacts_Garnet(GarnetServer server) : WorkerProcessFacts<GarnetServer>(server);

/// <summary>The worker given one node of a three-primary Redis Cluster, as a managed Redis in cluster mode gives it.</summary>
public sealed class WorkerProcessFacts_Cluster(RedisCluster server) : WorkerProcessFacts<RedisCluster>(server);

/// <summary>The real worker process against a real server: the same facts on redis-server and on Garnet.</summary>
public abstract class WorkerProcessFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    // For a task of billions of iterations: seconds on a quiet core, many times that on a CI machine whose cores are
    // taken by other tests. The outcome is what these tests check, not the speed.
    private static readonly TimeSpan ComputeWait = TimeSpan.FromSeconds(150);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private QueueKeys Keys => new(_queue);
    private IDatabase Db => server.Db;

    // About 3 s of work at 0.6 ns per iteration, more on a busy machine.
    private const long LongTask = 5_000_000_000;

    private WorkerProcess StartWorker(params (string, string)[] env) => WorkerProcess.Start(WorkerProcess.Env(server, _queue, env));

    private async Task<List<TaskResult>> ResultsAsync() =>
        (await Db.ListRangeAsync(Keys.Results)).Select(v => JsonSerializer.Deserialize<TaskResult>((string)v!)!).ToList();

    private Task WaitForResultsAsync(int count, TimeSpan? wait = null) =>
        Eventually.WaitAsync(async () => await Db.ListLengthAsync(Keys.Results) >= count, wait ?? Wait, $"{count} results");

    [Fact]
    public async Task Worker_ProcessesPlainAndEnvelopeEntries_InFifoOrder()
    {
        await Db.ListRightPushAsync(Keys.Queue, "1000");
        await new TaskProducer(server.Client, new QueueOptions { QueueName = _queue }).EnqueueAsync([2000]);
        await Db.ListRightPushAsync(Keys.Queue, "3000");
        await using var worker = StartWorker();

        await WaitForResultsAsync(3);

        var got = worker.Lines.Where(l => l.StartsWith("got task: ")).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(["1000", "2000", "3000"], got);
        var results = await ResultsAsync();
        Assert.Equal([3000L, 2000, 1000], results.Select(r => r.Iterations)); // newest first
        Assert.Equal(PiOps.Shared.Pi.LeibnizPi.Compute(1000).ToString(), results[2].Pi);
        Assert.Contains(worker.Lines, l => l.StartsWith(results[2].Pi + " (id "));
        Assert.StartsWith("starting", worker.Lines.First());
        Assert.Equal(0, await Db.ListLengthAsync(Keys.InFlight(results[0].Worker)));
    }

    [Fact]
    public async Task AddTasks_PushesTenBookTasks_AndPrintsTheBooksLines()
    {
        await using var add = WorkerProcess.Start(WorkerProcess.Env(server, _queue), "add-tasks");
        Assert.Equal(0, await add.WaitForExitAsync(Wait));

        var added = add.Lines.Where(l => l.StartsWith("added task: ")).Select(l => long.Parse(l[12..])).ToList();
        Assert.Equal(10, added.Count);
        Assert.All(added, n => Assert.True(n % 100_000 == 0 && n >= 1_000_000 && n <= 10_000_000, $"{n}"));
        Assert.Contains("queue depth 10", add.Lines);
        Assert.Equal("done", add.Lines.Last());
        var entries = (await Db.ListRangeAsync(Keys.Queue)).Select(v => TaskEntry.Parse(v!, new QueueOptions())).ToList();
        Assert.Equal(added, entries.Select(e => e.Task!.Iterations));
        Assert.All(entries, e => Assert.Equal(EntryFormat.Envelope, e.Format));
    }

    [Fact]
    public async Task AddTasks_Plain_WritesBareIntegers()
    {
        await using var add = WorkerProcess.Start(WorkerProcess.Env(server, _queue), "add-tasks", "--count", "3", "--plain");
        Assert.Equal(0, await add.WaitForExitAsync(Wait));

        var entries = (await Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!).ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Matches("^[0-9]+$", e));
    }

    [Fact]
    public async Task CompleteWhenEmpty_ExitsZero_OnceTheQueueIsDrained()
    {
        await Db.ListRightPushAsync(Keys.Queue, ["100", "200", "300"]);
        await using var worker = StartWorker(("COMPLETE_WHEN_EMPTY", "1"));

        Assert.Equal(0, await worker.WaitForExitAsync(Wait));
        Assert.Contains("no more work", worker.Lines);
        Assert.Equal(3, (await ResultsAsync()).Count);
        Assert.False(await Db.SetContainsAsync(Keys.Workers, (await ResultsAsync())[0].Worker));
    }

    [Fact]
    public async Task CompleteWhenEmpty_WaitsForADeadWorkersTask_AndRunsIt_BeforeExiting()
    {
        // A worker that died holding a task: registered, task in flight, heartbeat gone.
        await Db.SetAddAsync(Keys.Workers, "crashed-1");
        await Db.ListRightPushAsync(Keys.InFlight("crashed-1"), "1234");
        await using var worker = StartWorker(("COMPLETE_WHEN_EMPTY", "1"));

        Assert.Equal(0, await worker.WaitForExitAsync(Wait));
        var results = await ResultsAsync();
        Assert.Single(results);
        Assert.Equal(1234, results[0].Iterations);
        Assert.Equal(2, results[0].Attempt);
    }

    [Fact]
    public async Task Sigterm_MidTask_FinishesTheTask_ThenExitsZero()
    {
        await Db.ListRightPushAsync(Keys.Queue, [LongTask.ToString(), "10"]);
        await using var worker = StartWorker();
        await worker.WaitForLineAsync(l => l.StartsWith("got task: " + LongTask), Wait, "the long task to start");

        worker.Terminate();

        Assert.Equal(0, await worker.WaitForExitAsync(ComputeWait));
        Assert.Contains("got signal", worker.Lines);
        var results = await ResultsAsync();
        Assert.Equal([LongTask], results.Select(r => r.Iterations));
        Assert.Equal(["10"], (await Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!)); // no new task taken
        Assert.False(await Db.KeyExistsAsync(Keys.InFlight(results[0].Worker)));
    }

    [Fact]
    public async Task Sigterm_WhenTheTaskCannotFinishInTime_GivesItBackUnchanged()
    {
        string entry = (LongTask * 20).ToString();
        await Db.ListRightPushAsync(Keys.Queue, [entry, "10"]);
        await using var worker = StartWorker(("SHUTDOWN_TIMEOUT_SECONDS", "1"));
        await worker.WaitForLineAsync(l => l.StartsWith("got task: " + entry), Wait, "the long task to start");

        worker.Terminate();

        Assert.Equal(0, await worker.WaitForExitAsync(Wait));
        Assert.Contains(worker.Lines, l => l.Contains("shutdown timeout"));
        Assert.Equal([entry, "10"], (await Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!));
        Assert.Empty(await ResultsAsync());
    }

    [Fact]
    public async Task Sigkill_MidTask_AnotherWorkerRecoversAndRunsIt()
    {
        await Db.ListRightPushAsync(Keys.Queue, "2000000000");
        await using var first = StartWorker();
        await first.WaitForLineAsync(l => l.StartsWith("got task: 2000000000"), Wait, "the task to start");
        string firstId = (string)(await Db.SetMembersAsync(Keys.Workers)).Single()!;

        first.KillHard();
        await first.WaitForExitAsync(Wait);
        Assert.Equal(1, await Db.ListLengthAsync(Keys.InFlight(firstId))); // the task is not lost, it is in flight
        await using var second = StartWorker();

        await WaitForResultsAsync(1, ComputeWait);
        var result = (await ResultsAsync()).Single();
        Assert.Equal(2_000_000_000, result.Iterations);
        Assert.Equal(2, result.Attempt);
        Assert.NotEqual(firstId, result.Worker);
        Assert.Contains(second.Lines, l => l.StartsWith($"recovered 1 task(s) of stopped worker {firstId}"));
    }

    [Fact]
    public async Task BadEntries_AreDeadLettered_WithReasons_WhileGoodOnesComplete()
    {
        string[] bad =
        [
            "garbage", "-5", "1.5", "", "٣٤", "200000000000", "{not json", """{"n":5}""", """{"iterations":"x"}""",
            new string('9', 70_000),
        ];
        foreach (var b in bad)
        {
            await Db.ListRightPushAsync(Keys.Queue, b);
            await Db.ListRightPushAsync(Keys.Queue, "100");
        }

        await using var worker = StartWorker();

        await WaitForResultsAsync(bad.Length);
        await Eventually.WaitAsync(async () => await Db.ListLengthAsync(Keys.DeadLetters) == bad.Length, Wait, "all dead letters");
        var dead = (await Db.ListRangeAsync(Keys.DeadLetters)).Select(v => JsonSerializer.Deserialize<DeadLetter>((string)v!)!).ToList();
        Assert.Equal(bad, dead.Select(d => d.Entry));
        Assert.All(dead, d => Assert.False(string.IsNullOrWhiteSpace(d.Reason)));
        Assert.Contains("over the 65,536-byte limit", dead[^1].Reason);
        Assert.Contains("over the maximum", dead[5].Reason);
        Assert.False(worker.HasExited);
        Assert.Equal(bad.Length, (long)await Db.HashGetAsync(Keys.Stats, "failed"));
    }

    [Fact]
    public async Task Pause_StopsTakingWork_UntilResumed()
    {
        await Db.StringSetAsync(Keys.Paused, "1");
        await Db.ListRightPushAsync(Keys.Queue, "10");
        await using var worker = StartWorker();
        await worker.WaitForLineAsync(l => l.StartsWith("paused"), Wait, "the worker to notice the pause");
        Assert.Equal(1, await Db.ListLengthAsync(Keys.Queue));

        await Db.KeyDeleteAsync(Keys.Paused);

        await WaitForResultsAsync(1);
    }

    [Fact]
    public async Task Liveness_IsRefreshedWhileIdle_AndDuringALongTask()
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-live-{Guid.NewGuid():N}", "lastrun.date");
        await using var worker = StartWorker(("LIVENESS_FILE", file));
        await Eventually.WaitAsync(() => File.Exists(file), Wait, "liveness file written");
        long first = long.Parse(File.ReadAllText(file));
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - first, 0, 5);

        // A task of half a minute or more (0.3 ns per iteration on a 512-bit core): the file must move on while it
        // runs, not only between tasks. The worker is killed when the fact ends; the task need not finish.
        await Db.ListRightPushAsync(Keys.Queue, (LongTask * 20).ToString());
        await worker.WaitForLineAsync(l => l.StartsWith("got task: "), Wait, "task start");
        long atStart = long.Parse(File.ReadAllText(file));
        await Eventually.WaitAsync(() => long.Parse(File.ReadAllText(file)) >= atStart + 3, Wait, "liveness refreshed during the task");
        Assert.Equal(0, worker.CountLines(l => l.StartsWith("3.14")));
    }

    [Fact]
    public async Task RedisRestart_MidRun_TheWorkerCarriesOn()
    {
        await using var worker = StartWorker();
        await Db.ListRightPushAsync(Keys.Queue, ["10", "20"]);
        await WaitForResultsAsync(2);

        await server.RestartAsync(TimeSpan.FromSeconds(2));
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                await Db.ListRightPushAsync(Keys.Queue, "30");
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, Wait, "the server to come back");

        await WaitForResultsAsync(3);
        Assert.False(worker.HasExited);
        Assert.Contains(worker.ErrorLines, l => l.Contains("Redis unavailable"));
    }
}
