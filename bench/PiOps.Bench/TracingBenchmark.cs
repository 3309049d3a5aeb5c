using PiOps.Tests.Infrastructure;
using PiOps.Tests.Observability;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// The throughput cost of OpenTelemetry in the worker: the throughput scenario with OTLP off, then on (traces, metrics
/// and logs, every span sampled) to a receiver in this process that drops what it gets, alternating rounds so the
/// machine's load falls on both. For trivial tasks (n = 1, the queue's own cost), tasks of n = 100,000, and the book's
/// smallest task (n = 1,000,000: `add_tasks.py` makes 10-100 × 100,000) and its mean (5,500,000). The goal, under 5 %
/// at 100 % sampling, is judged on the book's smallest task by the medians of the alternating rounds (one round's noise
/// on this shared machine is larger than the cost); the bench exits 1 when it is missed there.
/// </summary>
internal static class TracingBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
        long[] sizes = args.Length > 2 ? args[2].Split(',').Select(long.Parse).ToArray() : [1, 100_000, 1_000_000, 5_500_000];
        // Each round's workers run this long before the clock starts, so both sides are measured at the JIT's last tier.
        var warmUpFor = TimeSpan.FromSeconds(args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 20);
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        await using var otlp = await OtlpReceiver.StartAsync(decode: false);
        var on = otlp.Environment("piops-worker-bench").Select(kv => (kv.Key, kv.Value!))
            .Append(("OTEL_TRACES_SAMPLER", "always_on")).ToArray();
        try
        {
            const long bookTask = 1_000_000;
            double bookCost = double.NaN;
            foreach (long n in sizes)
            {
                // A task of the book's size takes about half a millisecond and more: fewer of them give as long a round.
                int count = n >= bookTask ? (int)Math.Max(200, tasks / 2 * bookTask / n) : tasks;
                var off = new List<double>();
                var traced = new List<double>();
                var cpuOff = new List<double>();
                var cpuOn = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    foreach (bool tracing in new[] { false, true })
                    {
                        var run = await ThroughputScenario.RunAsync(redis, 1, count, TimeSpan.FromMinutes(10), warmUp: count / 2,
                            warmUpFor: warmUpFor,
                            iterations: n, environment: tracing ? on : null);
                        (tracing ? traced : off).Add(run.TasksPerSecond);
                        (tracing ? cpuOn : cpuOff).Add(run.WorkerCpuMicrosecondsPerTask);
                        Console.WriteLine($"n = {n:N0}, tracing {(tracing ? "on " : "off")}: {run.Describe()}");
                    }
                }

                double best = off.Max(), bestTraced = traced.Max(), cost = 1 - bestTraced / best;
                double median = Median(off), medianTraced = Median(traced);
                Console.WriteLine($"n = {n:N0}: off {best:N0} tasks/s (best of {rounds}), on {bestTraced:N0} tasks/s: cost {cost:P1}, " +
                    $"{(1 / bestTraced - 1 / best) * 1e6:N1} µs per task; medians {median:N0} and {medianTraced:N0}: cost {1 - medianTraced / median:P1}; " +
                    $"worker CPU per task (medians) {Median(cpuOff):N1} µs off, {Median(cpuOn):N1} µs on: {Median(cpuOn) - Median(cpuOff):N1} µs for tracing");
                if (n == bookTask) bookCost = 1 - medianTraced / median;
            }

            Console.WriteLine($"OTLP requests received: {otlp.Requests:N0}, {otlp.Bytes / 1e6:N1} MB");
            if (double.IsNaN(bookCost)) return 0;
            bool met = bookCost < 0.05;
            Console.WriteLine($"goal (under 5 % on the book's task of n = {bookTask:N0}): {(met ? "met" : "MISSED")}, {bookCost:P1}");
            return met ? 0 : 1;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
