using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>
/// The local runtime's HorizontalPodAutoscaler, with the HPA's algorithm: per metric, desired = ceil(current x
/// value / target) (CPU, within a 10% tolerance) or ceil(queue length / target per replica) (as KEDA's list
/// scaler); the larger wins, bounded by min and max. Scaling up is immediate; scaling down takes the highest
/// recommendation within the stabilisation window. Not thread-safe: the runtime calls it under its lock.
/// </summary>
internal sealed class LocalAutoscaler(AutoscalerSpec spec)
{
    public const double Tolerance = 0.1;

    private readonly List<(DateTimeOffset At, int Replicas)> _recommendations = [];
    private double _cpuSum;
    private int _cpuSamples;

    public AutoscalerSpec Spec { get; private set; } = spec;

    public int Desired { get; private set; }

    public double? CpuPercent { get; private set; }

    public long? QueueLength { get; private set; }

    public DateTimeOffset? LastScaleTime { get; private set; }

    public DateTimeOffset LastEvaluation { get; private set; } = DateTimeOffset.MinValue;

    public string? Status { get; private set; }

    public string? LastEvent { get; private set; }

    /// <summary>Bumped on every change of the spec or the replicas, as a resourceVersion: an edit from an older one is refused.</summary>
    public long Version { get; private set; } = 1;

    public void Change(AutoscalerSpec spec)
    {
        Spec = spec with { ResourceVersion = null };
        Version++;
        _recommendations.Clear();
        LastEvaluation = DateTimeOffset.MinValue;
    }

    /// <summary>One CPU reading of the pods, as a percentage of their request; averaged until the next evaluation.</summary>
    public void ObserveCpu(double utilisation)
    {
        _cpuSum += utilisation;
        _cpuSamples++;
    }

    /// <summary>Takes the metrics of this period (the CPU average since the last look, the queue length), shown even when off.</summary>
    public void Measure(DateTimeOffset now, long? queueLength)
    {
        LastEvaluation = now;
        CpuPercent = _cpuSamples > 0 ? _cpuSum / _cpuSamples : null;
        _cpuSum = 0;
        _cpuSamples = 0;
        QueueLength = queueLength;
    }

    /// <summary>
    /// Another dashboard scales the workers (or nobody can now): no recommendation is kept, so the stabilisation window
    /// starts afresh when this one takes over, as a restarted HPA controller's does.
    /// </summary>
    public void Standby(string status)
    {
        _recommendations.Clear();
        Status = status;
    }

    /// <summary>Measures, then returns the replicas the Deployment should have.</summary>
    public int Evaluate(DateTimeOffset now, int current, long? queueLength)
    {
        Measure(now, queueLength);
        var s = Spec;
        if (current == 0)
        {
            Desired = 0;
            Status = "Scaling is off while the Deployment has 0 replicas (as the HPA does): scale it to 1 or more to let the autoscaler work.";
            return 0;
        }

        var reasons = new List<string>();
        int recommendation = 0;
        if (s.TargetCpuPercent is { } cpuTarget)
        {
            if (CpuPercent is { } cpu)
            {
                double ratio = cpu / cpuTarget;
                int byCpu = Math.Abs(ratio - 1) <= Tolerance ? current : (int)Math.Ceiling(current * ratio);
                recommendation = Math.Max(recommendation, byCpu);
                reasons.Add($"CPU {cpu:0}% of request against a target of {cpuTarget}% → {byCpu}");
            }
            else
            {
                recommendation = Math.Max(recommendation, current);
                reasons.Add("CPU not known yet → keep " + current);
            }
        }

        if (s.TargetQueueLengthPerReplica is { } perReplica)
        {
            if (queueLength is { } length)
            {
                int byQueue = (int)Math.Min(int.MaxValue, (length + perReplica - 1) / perReplica);
                recommendation = Math.Max(recommendation, byQueue);
                reasons.Add($"queue length {length:N0} against {perReplica:N0} per replica → {byQueue}");
            }
            else
            {
                recommendation = Math.Max(recommendation, current);
                reasons.Add("queue length not known (Redis unavailable) → keep " + current);
            }
        }

        string why = string.Join("; ", reasons);
        int bounded = Math.Clamp(recommendation, s.MinReplicas, s.MaxReplicas);
        string limit = bounded > recommendation ? $" (raised to the minimum of {s.MinReplicas})"
            : bounded < recommendation ? $" (capped at the maximum of {s.MaxReplicas})" : "";

        _recommendations.Add((now, bounded));
        _recommendations.RemoveAll(r => r.At < now.AddSeconds(-s.ScaleDownStabilizationSeconds));
        int desired = bounded;
        string held = "";
        if (bounded < current)
        {
            desired = Math.Min(current, _recommendations.Max(r => r.Replicas));
            if (desired > bounded)
            {
                held = $"; scale-down held at {desired} by the {s.ScaleDownStabilizationSeconds} s stabilisation window";
            }
        }

        Desired = desired;
        Status = $"{why}{limit}{held}.";
        if (desired != current)
        {
            LastScaleTime = now;
            Version++;
            LastEvent = $"Scaled from {current} to {desired}: {why}{limit}.";
        }

        return desired;
    }
}
