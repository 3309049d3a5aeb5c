using System.Diagnostics;
using PiOps.Tests.Infrastructure;

namespace PiOps.Tests.Resilience;

/// <summary>
/// Tasks through real worker processes while one of them, chosen at random among those already up, is
/// killed with SIGKILL every <c>killEvery</c> and replaced at once. Shared by the test (5,000 tasks) and the `kills` benchmark (10,000).
/// </summary>
public static class WorkerKillScenario
{
    /// <summary>
    /// Environment of the workers. Heartbeats expire after 3 s, so a killed worker's task comes back within seconds.
    /// MAX_ATTEMPTS is raised from 3: killing a worker every half second is far harsher than any real failure rate, and
    /// a task that happens to be in flight in three killed workers in a row would be dead-lettered as poison, which is
    /// the protocol working (QueueProtocolFacts covers it), not a lost task.
    /// </summary>
    public static readonly (string, string)[] Env = [("HEARTBEAT_TTL_SECONDS", "3"), ("POP_TIMEOUT_SECONDS", "1"), ("MAX_ATTEMPTS", "100")];

    /// <param name="longTask">Every other task has this many iterations (run one at a time); the rest have 1,000 (taken in
    /// batches), so kills cut both paths.</param>
    /// <param name="maxKills">After this many kills the rest of the run completes undisturbed: on a machine so busy
    /// that a worker takes seconds to start, kills every half second would otherwise leave no worker time to work.</param>
    public static async Task<KillReport> RunAsync(TestRedisServer server, int tasks, int workers, long longTask,
        TimeSpan killEvery, TimeSpan timeout, int seed, Action<string>? log = null, int maxKills = int.MaxValue)
    {
        string queue = TestRedisServer.NewQueueName();
        var iterations = Enumerable.Range(0, tasks).Select(i => i % 2 == 0 ? 1_000 : longTask).ToArray();
        var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, iterations);
        await using var pool = new WorkerPool(server, queue, workers, Env).Start();
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        var complete = ledger.WaitUntilCompleteAsync(timeout,
            () => $"kills so far: {pool.Kills}; a running worker's output:\n{pool.Running[0].Output}");
        // The kills are the fault being injected, on a schedule; completion is what the run waits for.
        while (!complete.IsCompleted)
        {
            if (await Task.WhenAny(complete, Task.Delay(killEvery)) == complete)
            {
                break;
            }

            if (pool.Kills < maxKills && await pool.KillOneAndReplaceAsync(random) && pool.Kills % 10 == 0)
            {
                log?.Invoke($"{clock.Elapsed.TotalSeconds,5:F1} s: {pool.Kills} kills, {(await ledger.ReadAsync()).Describe()}");
            }
        }

        var report = await complete;
        var elapsed = clock.Elapsed;
        pool.ReplaceExited();
        return new KillReport(tasks, workers, pool.Kills, elapsed, report, pool.ExitedByThemselves.Select(w => w.Output).ToList(), seed);
    }
}

public sealed record KillReport(int Tasks, int Workers, int Kills, TimeSpan Elapsed, LedgerReport Ledger,
    IReadOnlyList<string> SelfExits, int Seed)
{
    public string Describe() =>
        $"{Tasks:N0} tasks, {Workers} workers, {Kills} SIGKILLs in {Elapsed.TotalSeconds:F1} s (seed {Seed}): {Ledger.Describe()}; " +
        $"{SelfExits.Count} worker(s) exited by themselves";
}
