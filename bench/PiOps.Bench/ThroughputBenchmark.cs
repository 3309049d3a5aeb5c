using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// Trivial tasks (n = 1) end to end with 1, 2 and 4 worker processes, in tasks per second, next to redis-benchmark's
/// LPUSH rate against the same redis-server in the same run (the physical limit), and what each task cost the workers
/// and redis-server in CPU. Goals (issue 17): 4 workers reach 75 % of the LPUSH rate and 1 worker 60 %; in every run a
/// task costs at most 12 µs of worker CPU and 8 µs of redis-server CPU. Exits 1 when any is missed.
/// </summary>
internal static class ThroughputBenchmark
{
    private const double WorkerCpuGoal = 12;
    private const double RedisCpuGoal = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 200_000;
        // Warm batches go on this long: the JIT's last tier takes seconds to reach every method on the hot path, and
        // a worker runs for hours (bench/README.md, throughput).
        int warmUpSeconds = args.Length > 1 ? int.Parse(args[1]) : 15;
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        try
        {
            double before = await ThroughputScenario.RedisBenchmarkLpushAsync(redis.Port);
            Console.WriteLine($"redis-benchmark LPUSH: {before:N0} requests/s");
            var runs = new List<ThroughputReport>();
            foreach (int workers in new[] { 1, 2, 4 })
            {
                var run = await ThroughputScenario.RunAsync(redis, workers, tasks, TimeSpan.FromMinutes(10), warmUp: 20_000,
                    warmUpFor: TimeSpan.FromSeconds(warmUpSeconds), ownServer: true);
                Console.WriteLine(run.Describe());
                runs.Add(run);
            }

            double after = await ThroughputScenario.RedisBenchmarkLpushAsync(redis.Port);
            double lpush = (before + after) / 2;
            Console.WriteLine($"redis-benchmark LPUSH again: {after:N0} requests/s; mean {lpush:N0}");
            bool ok = true;
            foreach (var run in runs)
            {
                double share = run.TasksPerSecond / lpush;
                double goal = run.Workers switch { 1 => 0.60, 4 => 0.75, _ => 0 };
                bool met = run.Ledger.AllDone && share >= goal && run.WorkerCpuMicrosecondsPerTask <= WorkerCpuGoal
                           && run.RedisCpuMicrosecondsPerTask <= RedisCpuGoal;
                ok &= met;
                Console.WriteLine($"{run.Workers} worker(s): {run.TasksPerSecond,8:N0} tasks/s = {share,6:P1} of LPUSH" +
                                  (goal > 0 ? $" (goal {goal:P0})" : "") +
                                  $", worker CPU {run.WorkerCpuMicrosecondsPerTask,5:F1} µs (goal {WorkerCpuGoal} µs)" +
                                  $", Redis CPU {run.RedisCpuMicrosecondsPerTask,5:F1} µs a task (goal {RedisCpuGoal} µs)" +
                                  (run.Ledger.AllDone ? "" : ", NOT ALL DONE") + (met ? "" : "  <- missed"));
            }

            Console.WriteLine(ok ? "goals met" : "GOAL MISSED");
            return ok ? 0 : 1;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
