using System.Diagnostics;
using System.Globalization;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Observability;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// The throughput cost of OpenTelemetry in the worker. Two workers run side by side, each on a queue of its own: one
/// with OTLP off, one with OTLP on (traces, metrics and logs, every span sampled) to a receiver in this process that
/// drops what it gets. After a warm-up they take turns, one round each, in the order off-on, on-off, off-on, ..., so
/// the machine's load in any few seconds falls on both sides of a pair, and each pair gives one ratio. The cost is 1
/// minus the median of those ratios.
///
/// Pairs of rounds a few seconds apart cancel the load of this shared machine, which drifts over tens of seconds; a
/// worker process also has a speed of its own (where the JIT and the heap put things), so the two workers are started
/// afresh for each of several generations and the pairs of all generations are pooled.
///
/// Sizes: trivial tasks (n = 1, the queue's own cost), n = 100,000, and the book's smallest, mean and largest tasks
/// (`add_tasks.py` makes 10-100 × 100,000: 1,000,000, 5,500,000, 10,000,000). The goal, under 5 % at 100 % sampling,
/// is judged on every size of the book's in the run; the bench exits 1 when it is missed on any.
/// </summary>
internal static class TracingBenchmark
{
    private const long BookTask = 1_000_000;

    private const long BookLargest = 10_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        int generations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        long[] sizes = args.Length > 2 ? args[2].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : [1, 100_000, 1_000_000, 5_500_000, 10_000_000];
        // Each generation's workers run this long before the first measured pair, so both are at the JIT's last tier.
        var warmUpFor = TimeSpan.FromSeconds(args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 20);
        int pairs = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 7;
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        await using var otlp = await OtlpReceiver.StartAsync(decode: false);
        // The traced worker runs as an operator's does when OTEL_EXPORTER_OTLP_ENDPOINT is all they set: the SDK's batch
        // delay and metric interval (5 s, 60 s). TRACING_BENCH_TEST_INTERVALS=1 keeps the tests' quick ones instead
        // (200 ms, 500 ms): a collection of every metric twice a second, which no deployment runs.
        bool testIntervals = Environment.GetEnvironmentVariable("TRACING_BENCH_TEST_INTERVALS") is "1";
        var on = otlp.Environment("piops-worker-bench")
            .Where(kv => testIntervals || !(kv.Key.EndsWith("_DELAY", StringComparison.Ordinal) || kv.Key.EndsWith("_INTERVAL", StringComparison.Ordinal)))
            .Select(kv => (kv.Key, kv.Value!))
            .Append(("OTEL_TRACES_SAMPLER", "always_on")).ToArray();
        Console.WriteLine($"{generations} generation(s) of two fresh workers, {pairs} pairs of rounds each, {warmUpFor.TotalSeconds:0} s warm-up; " +
            (testIntervals ? "the tests' export intervals (batches every 200 ms, metrics every 500 ms)" : "the SDK's export intervals (batches every 5 s, metrics every 60 s)"));
        long tracedTasks = 0;
        try
        {
            var bookCosts = new List<(long N, double Cost)>();
            foreach (long n in sizes)
            {
                // A round of the book's tasks lasts about as long as one of small tasks: fewer of the larger ones.
                int count = n >= BookTask ? (int)Math.Max(200, tasks / 2 * BookTask / n) : tasks;
                var ratios = new List<double>();
                var rates = (Off: new List<double>(), On: new List<double>());
                var cpu = (Off: new List<double>(), On: new List<double>());
                for (int g = 0; g < generations; g++)
                {
                    await using var off = await Side.StartAsync(redis, null);
                    await using var traced = await Side.StartAsync(redis, on);
                    var warming = Stopwatch.StartNew();
                    while (warming.Elapsed < warmUpFor)
                    {
                        await off.RoundAsync(count / 2, n);
                        await traced.RoundAsync(count / 2, n);
                    }

                    var generation = new List<double>();
                    for (int p = 0; p < pairs; p++)
                    {
                        // Off first in even pairs, on first in odd ones: a drift within a pair falls on each side alike.
                        var first = p % 2 == 0 ? off : traced;
                        var second = p % 2 == 0 ? traced : off;
                        var a = await first.RoundAsync(count, n);
                        var b = await second.RoundAsync(count, n);
                        var (offRound, onRound) = p % 2 == 0 ? (a, b) : (b, a);
                        rates.Off.Add(offRound.TasksPerSecond);
                        rates.On.Add(onRound.TasksPerSecond);
                        cpu.Off.Add(offRound.CpuMicrosecondsPerTask);
                        cpu.On.Add(onRound.CpuMicrosecondsPerTask);
                        generation.Add(onRound.TasksPerSecond / offRound.TasksPerSecond);
                        Console.WriteLine($"n = {n:N0}, generation {g + 1}, pair {p + 1}: off {offRound.Describe()}; on {onRound.Describe()}; " +
                            $"on/off {onRound.TasksPerSecond / offRound.TasksPerSecond:P1}");
                    }

                    Console.WriteLine($"n = {n:N0}, generation {g + 1}: cost by the median pair {1 - Median(generation):P1}");
                    ratios.AddRange(generation);
                    tracedTasks += traced.Done;
                }

                double cost = 1 - Median(ratios);
                double spread = Quantile(ratios, 0.75) - Quantile(ratios, 0.25);
                Console.WriteLine($"n = {n:N0}: {ratios.Count} pairs; off median {Median(rates.Off):N0} tasks/s, on median {Median(rates.On):N0} tasks/s; " +
                    $"cost {cost:P1} by the median pair (pairs' interquartile range {spread:P1}), {(1 / Median(rates.On) - 1 / Median(rates.Off)) * 1e6:N1} µs per task; " +
                    $"worker CPU per task (medians) {Median(cpu.Off):N1} µs off, {Median(cpu.On):N1} µs on: {Median(cpu.On) - Median(cpu.Off):N1} µs for tracing");
                if (n is >= BookTask and <= BookLargest)
                {
                    bookCosts.Add((n, cost));
                }
            }

            // About the same bytes a task at either interval: the SDK's queues dropped nothing (a dropped span is bytes missing).
            Console.WriteLine($"OTLP requests received: {otlp.Requests:N0}, {otlp.Bytes / 1e6:N1} MB, {otlp.Bytes / (double)Math.Max(1, tracedTasks):N0} bytes a traced task");
            if (bookCosts.Count == 0)
            {
                return 0;
            }

            bool met = bookCosts.All(c => c.Cost < 0.05);
            Console.WriteLine($"goal (under 5 % on the book's sizes, n = {BookTask:N0} to {BookLargest:N0}): {(met ? "met" : "MISSED")}, " +
                string.Join(", ", bookCosts.Select(c => $"{c.Cost:P1} at {c.N:N0}")));
            return met ? 0 : 1;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static double Median(List<double> values) => Quantile(values, 0.5);

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        double at = q * (sorted.Length - 1);
        int low = (int)Math.Floor(at);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
    }

    private sealed record Round(int Tasks, TimeSpan Elapsed, TimeSpan Cpu)
    {
        public double TasksPerSecond => Tasks / Elapsed.TotalSeconds;

        public double CpuMicrosecondsPerTask => Cpu.TotalMicroseconds / Tasks;

        public string Describe() => $"{TasksPerSecond:N0} tasks/s, {CpuMicrosecondsPerTask:N1} µs CPU per task";
    }

    /// <summary>One worker on a queue of its own, fed one round at a time.</summary>
    private sealed class Side(VolatileRedisServer redis, string queue, WorkerPool pool) : IAsyncDisposable
    {
        private long _done;

        /// <summary>Tasks this side's worker has done, warm-up included.</summary>
        public long Done => _done;

        public static async Task<Side> StartAsync(VolatileRedisServer redis, (string Key, string Value)[]? environment)
        {
            string queue = TestRedisServer.NewQueueName();
            var pool = new WorkerPool(redis, queue, 1, [("HEARTBEAT_TTL_SECONDS", "10"), ("POP_TIMEOUT_SECONDS", "1"), .. environment ?? []]).Start();
            await pool.WaitForHeartbeatsAsync(1, TimeSpan.FromSeconds(60));
            return new Side(redis, queue, pool);
        }

        /// <summary>One measured round of <paramref name="count"/> tasks (ThroughputScenario.MeasureAsync); then checks every task is done.</summary>
        public async Task<Round> RoundAsync(int count, long n)
        {
            long target = _done + count;
            var (ledger, elapsed, cpu) = await ThroughputScenario.MeasureAsync(redis, pool, queue, count, n, target, TimeSpan.FromMinutes(10));
            var report = await ledger.WaitUntilCompleteAsync(TimeSpan.FromMinutes(1));
            // The stats hash counts every completion on this queue since the worker started: one per task, no more.
            if (!report.AllDone || report.Completions != target)
            {
                throw new InvalidOperationException($"a round did not complete exactly once: {report.Describe()}");
            }

            _done = target;
            return new Round(count, elapsed, cpu);
        }

        public async ValueTask DisposeAsync()
        {
            await pool.StopAsync(TimeSpan.FromSeconds(30));
            await pool.DisposeAsync();
        }
    }
}
