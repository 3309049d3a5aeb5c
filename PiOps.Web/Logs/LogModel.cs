using PiOps.Web.Workloads;

namespace PiOps.Web.Logs;

/// <summary>Where a runtime's pod logs come from: the local runtime's process output, or the Kubernetes API's pods/log.</summary>
public interface IPodLogSource
{
    /// <summary>
    /// The pod's last <paramref name="tailLines"/> lines, then each new one until cancelled or the pod is gone (as
    /// `kubectl logs -f --tail=N`). Throws <see cref="LogStreamException"/> when the pod cannot be read.
    /// </summary>
    IAsyncEnumerable<LogLine> FollowAsync(string pod, int tailLines, CancellationToken cancellationToken);
}

/// <summary>A log stream that could not be opened or went away, with a sentence that says why.</summary>
public sealed class LogStreamException(string message) : Exception(message);

public enum LogTargetKind
{
    Pod,
    Deployment,
    Job,
}

/// <summary>What to tail: one pod, every pod of the workers Deployment, or every pod of a Job.</summary>
public sealed record LogTarget(LogTargetKind Kind, string Name)
{
    /// <summary>The pods of this target in <paramref name="snapshot"/>, oldest first.</summary>
    public IReadOnlyList<string> Pods(WorkloadSnapshot snapshot) => Kind switch
    {
        LogTargetKind.Deployment => snapshot.Workers.Pods.OrderBy(p => p.StartedAt).Select(p => p.Name).ToList(),
        LogTargetKind.Job => snapshot.Jobs.Where(j => j.Name == Name).SelectMany(j => j.Pods).OrderBy(p => p.StartedAt).Select(p => p.Name).ToList(),
        _ => snapshot.Workers.Pods.Concat(snapshot.Jobs.SelectMany(j => j.Pods)).Any(p => p.Name == Name) ? [Name] : [],
    };

    public override string ToString() => Kind switch
    {
        LogTargetKind.Deployment => $"deployment/{Name}",
        LogTargetKind.Job => $"job/{Name}",
        _ => $"pod/{Name}",
    };

    /// <summary>"deployment/pi-worker", "job/NAME" or "pod/NAME" (as kubectl writes them); null when it is none of those.</summary>
    public static LogTarget? Parse(string? text)
    {
        var parts = (text ?? "").Split('/', 2);
        if (parts.Length != 2 || parts[1].Length == 0)
        {
            return null;
        }

        return parts[0] switch
        {
            "deployment" or "deploy" => new LogTarget(LogTargetKind.Deployment, parts[1]),
            "job" => new LogTarget(LogTargetKind.Job, parts[1]),
            "pod" or "po" => new LogTarget(LogTargetKind.Pod, parts[1]),
            _ => null,
        };
    }
}

/// <summary>Section "Logs".</summary>
public sealed class LogOptions
{
    public const string Section = "Logs";

    /// <summary>Lines kept per pod on the server, shared by every viewer.</summary>
    public int LinesPerPod { get; set; } = 2000;

    /// <summary>Upstream log streams open at once, across all viewers.</summary>
    public int MaxStreams { get; set; } = 50;

    /// <summary>Lines a page keeps; older ones are dropped from the page.</summary>
    public int LinesInPage { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        if (LinesPerPod is < 10 or > 100_000)
        {
            yield return $"Logs:LinesPerPod must be from 10 to 100,000 (got {LinesPerPod}).";
        }

        if (MaxStreams is < 1 or > 1000)
        {
            yield return $"Logs:MaxStreams must be from 1 to 1,000 (got {MaxStreams}).";
        }

        if (LinesInPage is < 100 or > 1_000_000)
        {
            yield return $"Logs:LinesInPage must be from 100 to 1,000,000 (got {LinesInPage}).";
        }
    }
}
