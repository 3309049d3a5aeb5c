using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Workloads;

namespace PiOps.Tests.Resilience;

/// <summary>
/// The local runtime's workers Deployment scaled down step by step during a run (SIGTERM, grace period): a stopping
/// worker finishes its task and gives back what it had not started, so no task is lost and none runs twice. Tasks
/// alternate between trivial (taken in batches) and a few milliseconds (taken one at a time), so both paths are cut.
/// </summary>
public static class ScaleDownScenario
{
    public static async Task<ScaleDownReport> RunAsync(TestRedisServer server, int tasks, int[] replicas, TimeSpan timeout,
        Action<string>? log = null)
    {
        string queue = TestRedisServer.NewQueueName();
        string data = Directory.CreateTempSubdirectory("piops-scale-").FullName;
        try
        {
            // A 10 s heartbeat: a worker starved of CPU on a loaded machine must not be taken for dead, since a recovery
            // would run its task twice and this run is about the SIGTERM path only.
            await using var app = await DashboardApp.StartWithLocalRuntimeAsync(server, queue, data, replicas[0], "00:00:00.5",
                new Dictionary<string, string?> { ["Queue:HeartbeatTtl"] = "00:00:10" });
            var runtime = app.Workloads;
            await Eventually.WaitAsync(() => runtime.Current.Workers.Ready == replicas[0], timeout, $"{replicas[0]} ready workers");
            var iterations = Enumerable.Range(0, tasks).Select(i => i % 2 == 0 ? 1_000L : 5_000_000L).ToArray();
            var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, iterations);
            var clock = Stopwatch.StartNew();
            for (int step = 1; step < replicas.Length; step++)
            {
                await ledger.WaitForCompletionsAsync((long)tasks * step / (replicas.Length + 1), timeout);
                log?.Invoke($"{clock.Elapsed.TotalSeconds,5:F1} s: scale {runtime.Current.Workers.Pods.Count} -> {replicas[step]}");
                await runtime.ScaleAsync(replicas[step]);
                await Eventually.WaitAsync(() => runtime.Current.Workers.Pods.Count == replicas[step], timeout,
                    () => $"{replicas[step]} pods left: {string.Join(", ", runtime.Current.Workers.Pods.Select(p => $"{p.Name} {p.Phase}"))}");
            }

            var report = await ledger.WaitUntilCompleteAsync(timeout);
            var elapsed = clock.Elapsed;
            return new ScaleDownReport(tasks, replicas, elapsed, report);
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

public sealed record ScaleDownReport(int Tasks, int[] Replicas, TimeSpan Elapsed, LedgerReport Ledger)
{
    public string Describe() =>
        $"{Tasks:N0} tasks, replicas {string.Join(" -> ", Replicas)}, {Elapsed.TotalSeconds:F1} s: {Ledger.Describe()}";
}
