using PiOps.Web.HighAvailability;
using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>The HPA of the local runtime: its spec, and scaling the workers from CPU and queue length.</summary>
public sealed partial class LocalRuntime
{
    public Task SetAutoscalerAsync(AutoscalerSpec spec, Actor? by = null)
    {
        lock (_gate)
        {
            if (spec.ResourceVersion is { } seen && seen != _autoscaler.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw OperatorActionException.StaleEdit("autoscaler", "of the workers");
            }

            _autoscaler.Change(spec);
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    /// <summary>Why a duty waits on this dashboard: another holds its lease, or nobody can while Redis is away.</summary>
    private static string NotHolding(RedisLease lease, string what) => lease.HeldBy is { } other
        ? $"Standing by: the dashboard {other} {what} (it holds the {lease.Duty} lease)."
        : $"Standing by: nobody {what} until a dashboard holds the {lease.Duty} lease (Redis is unreachable or the lease is changing hands).";

    // The HPA's turn: CPU of the Deployment's ready pods against their request, and the queue length. Under the lock.
    private void Autoscale(DateTimeOffset now)
    {
        var running = _pods.Where(p => p.KillAt is null && p.IsRunning).ToList();
        if (running.Count > 0)
        {
            _autoscaler.ObserveCpu(running.Average(p => p.CpuPercent) * 1000 / _o.CpuRequestMillicores);
        }

        var queue = queueState.Current;
        long? depth = queue.RedisAvailable && queue.At != DateTimeOffset.MinValue ? queue.Depth : null;
        _history.Record(now, running.Count, Math.Max(0, _desired), depth ?? 0);
        if (now - _autoscaler.LastEvaluation < _o.AutoscalerInterval)
        {
            return;
        }

        if (!_autoscaler.Spec.Enabled)
        {
            _autoscaler.Measure(now, depth);
            return;
        }

        if (!_autoscalerLease.IsHeld)
        {
            _autoscaler.Measure(now, depth);
            _autoscaler.Standby(NotHolding(_autoscalerLease, "scales the workers"));
            return;
        }

        int desired = _autoscaler.Evaluate(now, Math.Max(0, _desired), depth);
        if (desired != _desired && _desired > 0)
        {
            log.LogInformation("Autoscaler: {Event}", _autoscaler.LastEvent);
            _desired = desired;
            SaveState(desired);
        }
    }
}
