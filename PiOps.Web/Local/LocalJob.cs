using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>A Job of the local runtime: its spec, its pods (with the index they run), and what they achieved.</summary>
internal sealed class LocalJob(JobSpec spec, DateTimeOffset startTime, string? cronJob = null)
{
    /// <summary>The CronJob that started it, if one did.</summary>
    public string? CronJob { get; } = cronJob;

    public JobSpec Spec { get; } = spec;

    public DateTimeOffset StartTime { get; } = startTime;

    public DateTimeOffset? CompletionTime { get; set; }

    public List<(LocalPod Pod, int? Index)> Pods { get; } = [];

    /// <summary>Pods whose exit has been counted (succeeded, or failed under restartPolicy Never).</summary>
    public HashSet<LocalPod> Accounted { get; } = [];

    public HashSet<int> SucceededIndexes { get; } = [];

    public int Succeeded { get; set; }

    public int Failed { get; set; }

    public string? Condition { get; set; }

    public string? Reason { get; set; }

    public bool Deleting { get; set; }

    public LocalEvents Events { get; } = new();

    /// <summary>Pods running, or crashed and waiting to restart in place.</summary>
    public IEnumerable<(LocalPod Pod, int? Index)> Active => Pods.Where(p => !Accounted.Contains(p.Pod) && p.Pod.KillAt is null);
}
