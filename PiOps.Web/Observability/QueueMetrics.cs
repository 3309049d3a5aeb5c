using PiOps.Web.Queue;
using PiOps.Web.Workloads;
using Prometheus;

namespace PiOps.Web.Observability;

/// <summary>
/// Prometheus metrics at /metrics, fed from the shared queue monitor and the default namespace's workload snapshot (no
/// Redis or API reads of their own). The chart's Grafana dashboard and alert rules are written against these names.
/// </summary>
public sealed class QueueMetrics(IQueueState monitor, IWorkloadBackends workloads) : IHostedService
{
    private static readonly Gauge Depth = Metrics.CreateGauge("piops_queue_depth", "Tasks waiting in the queue.");
    private static readonly Gauge InFlight = Metrics.CreateGauge("piops_queue_in_flight", "Tasks taken by workers and not finished.");
    private static readonly Gauge DeadLetters = Metrics.CreateGauge("piops_queue_dead_letters", "Entries in the dead-letter list.");
    private static readonly Gauge OldestAge = Metrics.CreateGauge("piops_queue_oldest_age_seconds",
        "Age of the oldest waiting task (0 when none waits).");
    private static readonly Gauge Replicas = Metrics.CreateGauge("piops_worker_replicas",
        "The workers Deployment's replicas: desired and ready (state label).", "state");
    private static readonly Gauge AutoscalerDesired = Metrics.CreateGauge("piops_autoscaler_desired_replicas",
        "Replicas the workers' autoscaler (HPA or KEDA's) asks for; 0 without one.");
    private static readonly Gauge WorkersAlive = Metrics.CreateGauge("piops_workers_alive", "Workers with a live heartbeat.");
    private static readonly Gauge RedisUp = Metrics.CreateGauge("piops_redis_up", "1 when the last sample reached Redis.");
    private static readonly Counter Done = Metrics.CreateCounter("piops_tasks_done_total", "Tasks completed (all workers, from Redis).");
    private static readonly Counter Failed = Metrics.CreateCounter("piops_tasks_failed_total", "Entries dead-lettered (from Redis).");
    private static readonly Counter Fenced = Metrics.CreateCounter("piops_tasks_fenced_total",
        "Late results refused: their task had been recovered for another attempt while the worker was cut off (from Redis).");
    private static readonly Counter Enqueued = Metrics.CreateCounter("piops_tasks_enqueued_total", "Tasks enqueued by PiOps producers.");
    private static readonly Histogram Duration = Metrics.CreateHistogram("piops_task_duration_seconds",
        "Time workers spent computing a task, from completions seen by this dashboard.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });

    private IDisposable? _snapshots;
    private IDisposable? _completions;
    private IDisposable? _workloads;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _snapshots = monitor.Subscribe(s =>
        {
            RedisUp.Set(s.RedisAvailable ? 1 : 0);
            if (s.RedisAvailable)
            {
                Depth.Set(s.Depth);
                InFlight.Set(s.InFlight);
                DeadLetters.Set(s.DeadLetters);
                WorkersAlive.Set(s.WorkersAlive);
                OldestAge.Set(s.OldestAge?.TotalSeconds ?? 0);
                Done.IncTo(s.Totals.Done);
                Failed.IncTo(s.Totals.Failed);
                Enqueued.IncTo(s.Totals.Enqueued);
                Fenced.IncTo(s.Totals.Fenced);
            }

            return Task.CompletedTask;
        });
        var runtime = workloads.Get(null);
        SetReplicas(runtime.Current);
        _workloads = runtime.Subscribe(w =>
        {
            SetReplicas(w);
            return Task.CompletedTask;
        });
        _completions = monitor.SubscribeCompletions(r =>
        {
            Duration.Observe(r.DurationMs / 1000.0);
            return Task.CompletedTask;
        });
        return Task.CompletedTask;
    }

    private static void SetReplicas(WorkloadSnapshot w)
    {
        Replicas.WithLabels("desired").Set(w.Workers.Desired);
        Replicas.WithLabels("ready").Set(w.Workers.Ready);
        AutoscalerDesired.Set(w.Autoscaler?.DesiredReplicas ?? 0);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _snapshots?.Dispose();
        _completions?.Dispose();
        _workloads?.Dispose();
        return Task.CompletedTask;
    }
}
