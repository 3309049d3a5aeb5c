using System.Threading.Channels;
using PiOps.Web.Workloads;

namespace PiOps.Web.Logs;

/// <summary>One line a pod wrote, with the time it was written (the node's, on a cluster).</summary>
public sealed record LogLine(DateTimeOffset At, string Pod, bool Error, string Text);

/// <summary>
/// A pod's log as it is addressed, from a target through the tailer to the source: the pod's namespace (null on the
/// local runtime, which has none), its name (unique only within a namespace), and the container to read (null: the one
/// kubectl logs would choose). The tailer keeps one stream per address, so two containers are two streams.
/// </summary>
public sealed record PodAddress(string? Namespace, string Name, string? Container = null)
{
    public override string ToString() => (Namespace is null ? Name : $"{Namespace}/{Name}") + (Container is null ? "" : $" -c {Container}");
}

/// <summary>Where a runtime's pod logs come from: the local runtime's process output, or the Kubernetes API's pods/log.</summary>
public interface IPodLogSource
{
    /// <summary>
    /// The pod's last <paramref name="tailLines"/> lines, then each new one until cancelled or the pod is gone (as
    /// `kubectl logs -n NAMESPACE -f --tail=N`). Throws <see cref="LogStreamException"/> when the pod cannot be read.
    /// </summary>
    IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, CancellationToken cancellationToken);
}

/// <summary>
/// The hand-off between a log stream and its one reader: bounded, so a reader that cannot keep up loses the oldest
/// lines, never the dashboard's memory.
/// </summary>
public static class LogChannel
{
    public const int Capacity = 10_000;

    public static Channel<LogLine> Create() => Channel.CreateBounded<LogLine>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
    });
}

/// <summary>When no workload runtime is enabled: there are no pods, so no log to follow.</summary>
public sealed class NoPodLogSource : IPodLogSource
{
    public IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, CancellationToken cancellationToken) =>
        throw new LogStreamException("No workload runtime is enabled, so there are no pods to tail.");
}

/// <summary>A log stream that could not be opened or went away, with a sentence that says why.</summary>
public sealed class LogStreamException(string message) : Exception(message);

public enum LogTargetKind
{
    Pod,
    Deployment,
    Job,
    Selector,
}

/// <summary>
/// What to tail: one pod, every pod of the workers Deployment, every pod of a Job, or every pod a label selector
/// selects (as `kubectl logs -l` and stern do, but following pods that appear later).
/// </summary>
public sealed record LogTarget(LogTargetKind Kind, string Name)
{
    /// <summary>The container to read in each pod (kubectl logs -c); null: the one kubectl would choose.</summary>
    public string? Container { get; init; }

    public const string Forms = "deployment/NAME, job/NAME, pod/NAME or selector/LABELS (e.g. selector/pod=pi)";

    // Parsed again on each use: cheap, and it keeps the record's equality to Kind and Name.
    private LabelSelector Selector => LabelSelector.TryParse(Name, out var error)
        ?? throw new InvalidOperationException(error);

    /// <summary>The pods of this target in <paramref name="snapshot"/>, oldest first, in the snapshot's namespace.</summary>
    public IReadOnlyList<PodAddress> Pods(WorkloadSnapshot snapshot) =>
        [.. Names(snapshot).Select(name => new PodAddress(snapshot.Namespace, name, Container))];

    /// <summary>The containers the target's pods have, in the order of their specs: a picker is offered when there are several.</summary>
    public IReadOnlyList<string> Containers(WorkloadSnapshot snapshot)
    {
        var names = Names(snapshot).ToHashSet(StringComparer.Ordinal);
        return [.. AllPods(snapshot).Where(p => names.Contains(p.Name)).SelectMany(p => p.Containers).Distinct(StringComparer.Ordinal)];
    }

    private IReadOnlyList<string> Names(WorkloadSnapshot snapshot) => Kind switch
    {
        LogTargetKind.Deployment => snapshot.Workers.Pods.OrderBy(p => p.StartedAt).Select(p => p.Name).ToList(),
        LogTargetKind.Job => snapshot.Jobs.Where(j => j.Name == Name).SelectMany(j => j.Pods).OrderBy(p => p.StartedAt).Select(p => p.Name).ToList(),
        LogTargetKind.Selector => Selected(snapshot, Selector),
        _ => AllPods(snapshot).Any(p => p.Name == Name) ? [Name] : [],
    };

    private static List<string> Selected(WorkloadSnapshot snapshot, LabelSelector selector) =>
        AllPods(snapshot).Where(p => selector.Matches(p.Labels)).OrderBy(p => p.StartedAt).Select(p => p.Name).Distinct().ToList();

    private static IEnumerable<PodView> AllPods(WorkloadSnapshot snapshot) => snapshot.Workers.Pods.Concat(snapshot.Jobs.SelectMany(j => j.Pods));

    public override string ToString() => Kind switch
    {
        LogTargetKind.Deployment => $"deployment/{Name}",
        LogTargetKind.Job => $"job/{Name}",
        LogTargetKind.Selector => $"selector/{Name}",
        _ => $"pod/{Name}",
    };

    /// <summary>What kubectl would be asked, for the page's caption.</summary>
    public string Kubectl => (Kind == LogTargetKind.Selector ? $"-l '{Name}'" : ToString()) + (Container is null ? "" : $" -c {Container}");

    /// <summary>"deployment/pi-worker", "job/NAME", "pod/NAME" (as kubectl writes them) or "selector/LABELS"; null when it is none.</summary>
    public static LogTarget? Parse(string? text) => TryParse(text, out _);

    /// <summary>As <see cref="Parse"/>, with a sentence that says what is wrong.</summary>
    public static LogTarget? TryParse(string? text, out string? error)
    {
        text = (text ?? "").Trim();
        error = null;
        if (text.StartsWith("-l ", StringComparison.Ordinal))
        {
            text = "selector/" + text[3..];
        }

        var parts = text.Split('/', 2);
        if (parts.Length != 2 || parts[1].Trim().Length == 0)
        {
            error = $"\"{Short(text)}\" is not something to tail: use {Forms}.";
            return null;
        }

        string name = parts[1].Trim();
        switch (parts[0])
        {
            case "deployment" or "deploy":
                return new LogTarget(LogTargetKind.Deployment, name);
            case "job":
                return new LogTarget(LogTargetKind.Job, name);
            case "pod" or "po":
                return new LogTarget(LogTargetKind.Pod, name);
            case "selector" or "label" or "l":
                var selector = LabelSelector.TryParse(name, out error);
                return selector is null ? null : new LogTarget(LogTargetKind.Selector, selector.Text);
            default:
                error = $"\"{Short(text)}\" is not something to tail: use {Forms}.";
                return null;
        }
    }

    private static string Short(string s) => s.Length <= 80 ? s : s[..77] + "...";
}

/// <summary>Section "Logs".</summary>
public sealed class LogOptions
{
    public const string Section = "Logs";

    /// <summary>Lines kept per pod on the server, shared by every viewer (and by the local runtime, for its pods' output).</summary>
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
