namespace PiOps.Web.Workloads;

/// <summary>
/// The autoscaler of the workers Deployment: the book's HPA (CPU utilisation of the pods' requests, 20%) and/or
/// KEDA's Redis list scaler (queue length per replica). With both, the larger recommendation wins, as the HPA does
/// with several metrics. Scale-up is immediate; scale-down takes the highest recommendation of the stabilisation
/// window, so a short dip does not remove pods.
/// </summary>
public sealed record AutoscalerSpec(
    bool Enabled,
    int MinReplicas,
    int MaxReplicas,
    int? TargetCpuPercent,
    int? TargetQueueLengthPerReplica,
    int ScaleDownStabilizationSeconds)
{
    /// <summary>
    /// On an edit, the version of the autoscaler the form was opened on (the HPA's or ScaledObject's
    /// metadata.resourceVersion); the save is refused when it has changed since. Null: no check.
    /// </summary>
    public string? ResourceVersion { get; init; }

    /// <summary>The book's HPA: 2 to 10 replicas at 20% CPU, with Kubernetes' default 5-minute scale-down window.</summary>
    public static AutoscalerSpec Book { get; } = new(false, 2, 10, 20, null, 300);

    /// <summary>Every problem with the spec, as sentences; empty when it can be applied.</summary>
    /// <param name="lowestMin">1 for an HPA; 0 for KEDA, which scales to zero when the queue is empty.</param>
    public IEnumerable<string> Validate(int replicaCap, int lowestMin = 1)
    {
        if (MinReplicas < lowestMin || MinReplicas > replicaCap)
        {
            yield return $"Min replicas must be from {lowestMin} to {replicaCap} (got {MinReplicas}).";
        }

        if (MaxReplicas < MinReplicas || MaxReplicas > replicaCap)
        {
            yield return $"Max replicas must be from min replicas ({MinReplicas}) to {replicaCap} (got {MaxReplicas}).";
        }

        if (TargetCpuPercent is null && TargetQueueLengthPerReplica is null)
        {
            yield return "Choose at least one target: CPU utilisation, queue length per replica, or both.";
        }

        if (TargetCpuPercent is < 1 or > 1000)
        {
            yield return $"The CPU target must be from 1% to 1000% of the pods' request (got {TargetCpuPercent}%).";
        }

        if (TargetQueueLengthPerReplica is < 1 or > 1_000_000)
        {
            yield return $"The queue length per replica must be from 1 to 1,000,000 (got {TargetQueueLengthPerReplica}).";
        }

        if (ScaleDownStabilizationSeconds is < 0 or > 3600)
        {
            yield return $"The scale-down stabilisation window must be from 0 to 3,600 seconds (got {ScaleDownStabilizationSeconds}).";
        }
    }
}

/// <summary>The autoscaler's state, as `kubectl describe hpa` shows it.</summary>
/// <param name="Kind">Where it lives: "local autoscaler", "HorizontalPodAutoscaler", "KEDA ScaledObject".</param>
/// <param name="CpuPercent">Average CPU of the pods as a percentage of their request, when known.</param>
/// <param name="QueueLength">Tasks waiting, when known.</param>
/// <param name="Status">Why it did or did not scale at the last look, in a sentence.</param>
/// <param name="LastEvent">The last scaling, in a sentence with its reason.</param>
/// <param name="History">Replicas against queue depth, oldest first, bounded.</param>
public sealed record AutoscalerView(
    AutoscalerSpec Spec,
    string Kind,
    int CurrentReplicas,
    int DesiredReplicas,
    double? CpuPercent,
    long? QueueLength,
    DateTimeOffset? LastScaleTime,
    string? Status,
    string? LastEvent,
    IReadOnlyList<AutoscalerPoint> History)
{
    /// <summary>The version of the autoscaler shown (metadata.resourceVersion; locally a counter), for edits made from it.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>With KEDA, the ScaledObject that scales the workers (through an HPA of its own); null otherwise.</summary>
    public string? ScaledObject { get; init; }
}

public sealed record AutoscalerPoint(DateTimeOffset At, int Replicas, int Desired, long QueueDepth);
