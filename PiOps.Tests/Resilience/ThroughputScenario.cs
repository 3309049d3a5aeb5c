using System.Diagnostics;
using System.Globalization;
using CliWrap;
using CliWrap.Buffered;
using StackExchange.Redis;
using PiOps.Tests.Infrastructure;

namespace PiOps.Tests.Resilience;

/// <summary>
/// Trivial tasks (n = 1) end to end through the at-least-once path: enqueued as envelopes, taken into in-flight lists,
/// completed by the Lua script. The workers are started and beating before the clock starts, so their start-up is not
/// counted. Shared by the throughput test (correctness at a small size) and the `throughput` benchmark (speed).
/// </summary>
public static class ThroughputScenario
{
    /// <param name="warmUp">
    /// Tasks run through the same workers before the clock starts, so a benchmark measures workers as they run for
    /// hours (code compiled by the JIT's last tier), not their first second. Their completions are not counted.
    /// </param>
    /// <param name="warmUpFor">
    /// Warm-up batches go on until this long has passed. The JIT moves a method to its last tier only after a quiet
    /// spell with no new methods to compile; a worker that also exports telemetry every few hundred milliseconds keeps
    /// compiling for longer than a fixed count of tasks lasts.
    /// </param>
    /// <param name="iterations">Each task's n: 1 measures the queue's own cost per task.</param>
    /// <param name="environment">More variables for the workers, e.g. OTEL_* to measure tracing's cost.</param>
    /// <param name="ownServer">
    /// The server holds nothing but this scenario's keys (a benchmark's own): before the clock starts, wait until its key
    /// tables have shrunk back after the warm-up's records were deleted (<see cref="WaitForSmallKeyTablesAsync"/>).
    /// </param>
    public static async Task<ThroughputReport> RunAsync(TestRedisServer server, int workers, int tasks, TimeSpan timeout,
        int warmUp = 0, long iterations = 1, IEnumerable<(string Key, string Value)>? environment = null, TimeSpan warmUpFor = default,
        bool ownServer = false)
    {
        string queue = TestRedisServer.NewQueueName();
        await using var pool = new WorkerPool(server, queue, workers,
            [("HEARTBEAT_TTL_SECONDS", "10"), ("POP_TIMEOUT_SECONDS", "1"), .. environment ?? []]) { AsDeployed = true }.Start();
        await pool.WaitForHeartbeatsAsync(workers, TimeSpan.FromSeconds(60));
        var warming = Stopwatch.StartNew();
        while (warmUp > 0)
        {
            var warm = await TaskLedger.EnqueueAsync(server.Client, queue, warmUp, iterations);
            var warmed = await warm.WaitUntilCompleteAsync(timeout);
            if (!warmed.AllDone)
            {
                throw new InvalidOperationException($"warm-up did not complete: {warmed.Describe()}");
            }

            // The measured round pays for the growth of its own records only, not for the warm-up's (below).
            await warm.ForgetAsync();
            if (warming.Elapsed >= warmUpFor)
            {
                break;
            }
        }

        if (ownServer)
        {
            await WaitForSmallKeyTablesAsync(server, timeout);
        }

        var redisAtStart = await RedisCpuAsync(server);
        var (ledger, elapsed, cpu) = await MeasureAsync(server, pool, queue, tasks, iterations, tasks, timeout);
        var redisCpu = await RedisCpuAsync(server) - redisAtStart;
        var report = await ledger.WaitUntilCompleteAsync(timeout);
        await ledger.ForgetAsync();
        await pool.StopAsync(TimeSpan.FromSeconds(30));
        return new ThroughputReport(workers, tasks, elapsed, report, pool.Running.Select(w => w.ExitCode).ToList())
        {
            WorkerCpu = cpu,
            RedisCpu = redisCpu,
            // The book's line, once per run of a task: a task run twice shows here even when its second store was
            // refused (already stored), which the ledger cannot see.
            Runs = pool.Running.Sum(w => w.Lines.Count(l => l.StartsWith("got task: ", StringComparison.Ordinal))),
        };
    }

    /// <summary>
    /// Waits until redis-server's tables of keys and of expiries are small again. It resizes them a step at a time, inside
    /// later commands and in its 100 ms timer; a round that started while the warm-up's million records were still being
    /// rehashed paid for that in every command: EXPIRE took 5.4 µs instead of 0.7 and a task twice the Redis CPU, in the
    /// round that happened to meet it (bench/README.md, throughput). MEMORY STATS gives each table's size; Garnet, which
    /// has no such tables, does not answer it, and there is nothing to wait for.
    /// </summary>
    public static async Task WaitForSmallKeyTablesAsync(TestRedisServer server, TimeSpan timeout)
    {
        const long small = 1 << 20;
        long main = 0, expires = 0;
        await Eventually.WaitAsync(async () =>
        {
            RedisResult stats;
            try
            {
                stats = await Admin(server).ExecuteAsync("MEMORY", "STATS");
            }
            catch (RedisServerException)
            {
                return true;
            }

            var db = stats.ToDictionary().TryGetValue("db." + server.Db.Database, out var d) ? d.ToDictionary() : [];
            main = db.TryGetValue("overhead.hashtable.main", out var m) ? (long)m : 0;
            expires = db.TryGetValue("overhead.hashtable.expires", out var e) ? (long)e : 0;
            return main < small && expires < small;
        }, timeout, () => $"redis-server's key tables back under 1 MiB (main {main:N0} bytes, expires {expires:N0})");
    }

    private static IServer Admin(TestRedisServer server) => server.Client.GetServer(server.Client.GetEndPoints()[0]);

    /// <summary>
    /// The server's own CPU time so far (INFO cpu: user and system, its network calls included). Over a round it counts
    /// everything the round asked of the server: the producer's pushes, the workers' scripts and the clock's poll.
    /// Null where the server does not report it (Garnet answers "ERR Invalid section cpu").
    /// </summary>
    public static async Task<TimeSpan?> RedisCpuAsync(TestRedisServer server)
    {
        Dictionary<string, string> info;
        try
        {
            info = (await Admin(server).InfoAsync("cpu"))
                .SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        catch (StackExchange.Redis.RedisServerException)
        {
            return null;
        }

        return info.TryGetValue("used_cpu_user", out var user) && info.TryGetValue("used_cpu_sys", out var sys)
            ? TimeSpan.FromSeconds(double.Parse(user, CultureInfo.InvariantCulture) + double.Parse(sys, CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>
    /// One measured round: enqueues <paramref name="tasks"/> tasks and waits until the queue's done count reaches
    /// <paramref name="target"/>, polled at least every 2 ms, not at Eventually's usual 200 ms: the clock must stop within
    /// a few milliseconds of the last completion, or rounds of a few seconds differ by 5 % for nothing but the poll.
    /// Returns the tasks' ledger, the clock and the workers' CPU time while it ran.
    /// </summary>
    public static async Task<(TaskLedger Ledger, TimeSpan Elapsed, TimeSpan Cpu)> MeasureAsync(TestRedisServer server, WorkerPool pool,
        string queue, int tasks, long iterations, long target, TimeSpan timeout)
    {
        var cpuAtStart = WorkersCpu(pool);
        var clock = Stopwatch.StartNew();
        var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, tasks, iterations);
        await Eventually.WaitAsync(async () => await ledger.CompletionsAsync() >= target, timeout,
            $"{target:N0} completions on {queue} with {pool.Running.Count} worker(s)", maxDelayMs: 2);
        var elapsed = clock.Elapsed;
        return (ledger, elapsed, WorkersCpu(pool) - cpuAtStart);
    }

    /// <summary>The CPU time (user and system, every thread) the pool's worker processes have used so far.</summary>
    private static TimeSpan WorkersCpu(WorkerPool pool) =>
        pool.Running.Aggregate(TimeSpan.Zero, (sum, w) =>
        {
            try
            {
                using var p = Process.GetProcessById(w.Pid);
                return sum + p.TotalProcessorTime;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return sum;
            }
        });

    /// <summary>redis-benchmark's LPUSH rate against the same server: the physical limit on this machine, now.</summary>
    public static async Task<double> RedisBenchmarkLpushAsync(int port, int requests = 200_000)
    {
        var run = await Cli.Wrap("redis-benchmark")
            .WithArguments(["-t", "lpush", "-q", "-p", port.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture)])
            .ExecuteBufferedAsync();
        string output = run.StandardOutput;
        // "LPUSH: 123456.79 requests per second, p50=0.223 msec", after progress lines separated by '\r'.
        string line = output.Split('\r', '\n').Last(l => l.StartsWith("LPUSH: ", StringComparison.Ordinal));
        return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}

public sealed record ThroughputReport(int Workers, int Tasks, TimeSpan Elapsed, LedgerReport Ledger, IReadOnlyList<int> ExitCodes)
{
    public double TasksPerSecond => Tasks / Elapsed.TotalSeconds;

    /// <summary>The workers' CPU time while the clock ran: their threads' user and system time, exporters included.</summary>
    public TimeSpan WorkerCpu { get; init; }

    public double WorkerCpuMicrosecondsPerTask => WorkerCpu.TotalMicroseconds / Tasks;

    /// <summary>Tasks started by the workers over the whole scenario (warm-up included), from their "got task" lines.</summary>
    public int Runs { get; init; }

    /// <summary>The server's CPU time while the clock ran (<see cref="ThroughputScenario.RedisCpuAsync"/>).</summary>
    public TimeSpan? RedisCpu { get; init; }

    /// <summary>Infinity where the server does not report its CPU, so no goal on it can be met by a missing figure.</summary>
    public double RedisCpuMicrosecondsPerTask => RedisCpu is { } cpu ? cpu.TotalMicroseconds / Tasks : double.PositiveInfinity;

    public string Describe() =>
        $"{Workers} worker(s): {Tasks:N0} tasks in {Elapsed.TotalSeconds:F2} s = {TasksPerSecond:N0} tasks/s, " +
        $"worker CPU {WorkerCpuMicrosecondsPerTask:N1} µs and Redis CPU {RedisCpuMicrosecondsPerTask:N1} µs per task; {Ledger.Describe()}";
}
