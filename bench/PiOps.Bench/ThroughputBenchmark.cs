using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// Trivial tasks (n = 1) end to end with 1, 2 and 4 worker processes, in tasks per second, next to redis-benchmark's
/// LPUSH rate against the same redis-server in the same run (the physical limit). Goal: 4 workers reach a third of it.
/// </summary>
internal static class ThroughputBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 50_000;
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        try
        {
            double before = await ThroughputScenario.RedisBenchmarkLpushAsync(redis.Port);
            Console.WriteLine($"redis-benchmark LPUSH: {before:N0} requests/s");
            var runs = new List<ThroughputReport>();
            foreach (int workers in new[] { 1, 2, 4 })
            {
                var run = await ThroughputScenario.RunAsync(redis, workers, tasks, TimeSpan.FromMinutes(10), warmUp: 20_000);
                Console.WriteLine(run.Describe());
                runs.Add(run);
            }

            double after = await ThroughputScenario.RedisBenchmarkLpushAsync(redis.Port);
            double lpush = (before + after) / 2;
            Console.WriteLine($"redis-benchmark LPUSH again: {after:N0} requests/s; mean {lpush:N0}");
            foreach (var run in runs)
            {
                Console.WriteLine($"{run.Workers} worker(s): {run.TasksPerSecond,8:N0} tasks/s = {run.TasksPerSecond / lpush:P1} of LPUSH");
            }

            bool ok = runs.All(r => r.Ledger.AllDone) && runs[^1].TasksPerSecond >= lpush / 3;
            Console.WriteLine(ok ? "goal met: 4 workers reach a third of redis-benchmark's LPUSH rate" : "GOAL MISSED");
            return ok ? 0 : 1;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
