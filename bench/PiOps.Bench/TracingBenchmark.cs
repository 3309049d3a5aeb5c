using PiOps.Tests.Infrastructure;
using PiOps.Tests.Observability;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// The throughput cost of OpenTelemetry in the worker: the throughput scenario with OTLP off, then on (traces, metrics
/// and logs, every span sampled) to a receiver in this process that drops what it gets, alternating rounds so the
/// machine's load falls on both. For trivial tasks (n = 1, the queue's own cost) and for tasks of n = 100,000.
/// </summary>
internal static class TracingBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        await using var otlp = await OtlpReceiver.StartAsync(decode: false);
        var on = otlp.Environment("piops-worker-bench").Select(kv => (kv.Key, kv.Value!))
            .Append(("OTEL_TRACES_SAMPLER", "always_on")).ToArray();
        try
        {
            foreach (long n in new[] { 1L, 100_000L })
            {
                var off = new List<double>();
                var traced = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    foreach (bool tracing in new[] { false, true })
                    {
                        var run = await ThroughputScenario.RunAsync(redis, 1, tasks, TimeSpan.FromMinutes(10), warmUp: tasks / 2,
                            iterations: n, environment: tracing ? on : null);
                        (tracing ? traced : off).Add(run.TasksPerSecond);
                        Console.WriteLine($"n = {n:N0}, tracing {(tracing ? "on " : "off")}: {run.Describe()}");
                    }
                }

                double best = off.Max(), bestTraced = traced.Max();
                Console.WriteLine($"n = {n:N0}: off {best:N0} tasks/s (best of {rounds}), on {bestTraced:N0} tasks/s: cost {1 - bestTraced / best:P1}");
            }

            Console.WriteLine($"OTLP requests received: {otlp.Requests:N0}, {otlp.Bytes / 1e6:N1} MB");
            return 0;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
