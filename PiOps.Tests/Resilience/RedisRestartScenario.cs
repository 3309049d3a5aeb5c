using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Queue;

namespace PiOps.Tests.Resilience;

/// <summary>
/// redis-server with append-only persistence (fsync on every write) killed with SIGKILL and started again on the same
/// port, in the middle of a run, while real workers take tasks and the dashboard (in this process) samples the queue.
/// Neither is restarted: they must carry on by themselves. Shared by the test and the `redis-restart` benchmark.
/// </summary>
public static class RedisRestartScenario
{
    public static async Task<RestartReport> RunAsync(TestRedisServer server, int tasks, int workers, long iterations,
        int restarts, TimeSpan downtime, TimeSpan timeout, Action<string>? log = null)
    {
        string queue = TestRedisServer.NewQueueName();
        var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, tasks, iterations);
        await using var dashboard = await DashboardApp.StartAsync(server, queue);
        var state = dashboard.Services.GetRequiredService<IQueueState>();
        bool sawOutage = false;
        using var watch = state.Subscribe(s =>
        {
            sawOutage |= !s.RedisAvailable && s.At > DateTimeOffset.MinValue && s.RedisError?.Contains("not answering") == true;
            return Task.CompletedTask;
        });
        await using var pool = new WorkerPool(server, queue, workers).Start();
        var pids = pool.Running.Select(w => w.Pid).ToList();
        var clock = Stopwatch.StartNew();
        for (int r = 1; r <= restarts; r++)
        {
            await ledger.WaitForCompletionsAsync((long)tasks * r / (restarts + 1), timeout);
            log?.Invoke($"{clock.Elapsed.TotalSeconds,5:F1} s: restart {r}: SIGKILL to redis-server, {downtime.TotalSeconds:F0} s down");
            await server.RestartAsync(downtime);
        }

        var report = await ledger.WaitUntilCompleteAsync(timeout, () => pool.Running[0].Output);
        var elapsed = clock.Elapsed;

        // The dashboard, never restarted: its sample is live again and agrees with Redis, and the API enqueues.
        await Eventually.WaitAsync(() => state.Current.RedisAvailable && state.Current.Totals.Done >= report.Completions,
            TimeSpan.FromSeconds(30), () => $"the dashboard's sample to recover: {state.Current.RedisError}, done {state.Current.Totals.Done}");
        using var http = dashboard.CreateClient();
        var response = await http.PostAsync("/api/tasks", new StringContent("""{"iterations": 1000, "count": 10}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"enqueue through the API after the restart: {(int)response.StatusCode} {body}");
        }

        var apiIds = JsonDocument.Parse(body).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!).ToList();
        var apiReport = await new TaskLedger(server.Client, queue, apiIds).WaitUntilCompleteAsync(TimeSpan.FromSeconds(60));

        bool sameWorkers = pool.Running.Select(w => w.Pid).SequenceEqual(pids) && pool.Running.All(w => !w.HasExited);
        string exited = string.Join("\n---\n", pool.Running.Where(w => w.HasExited)
            .Select(w => $"worker {w.Pid} exited with {w.ExitCode}:\n{string.Join("\n", w.Output.Split('\n').TakeLast(30))}"));
        return new RestartReport(tasks, workers, restarts, elapsed, report, sawOutage, sameWorkers, apiReport.AllDone,
            pool.Running.Sum(w => w.ErrorLines.Count(l => l.Contains("Redis unavailable"))), exited);
    }
}

/// <param name="SameWorkers">Every worker process of the start is still the one running: none exited or was replaced.</param>
/// <param name="ApiAfterRestart">Tasks enqueued through the dashboard's HTTP API after the restart were all done.</param>
/// <param name="WorkerRetries">"Redis unavailable" lines the workers logged while waiting for Redis.</param>
public sealed record RestartReport(int Tasks, int Workers, int Restarts, TimeSpan Elapsed, LedgerReport Ledger,
    bool DashboardSawOutage, bool SameWorkers, bool ApiAfterRestart, int WorkerRetries, string ExitedWorkers)
{
    public string Describe() =>
        $"{Tasks:N0} tasks, {Workers} workers, {Restarts} Redis restart(s), {Elapsed.TotalSeconds:F1} s: {Ledger.Describe()}; " +
        $"dashboard saw the outage: {DashboardSawOutage}, same worker processes: {SameWorkers}, API after restart: {ApiAfterRestart}, " +
        $"{WorkerRetries} worker retry lines" + (ExitedWorkers.Length > 0 ? "\n" + ExitedWorkers : "");
}
