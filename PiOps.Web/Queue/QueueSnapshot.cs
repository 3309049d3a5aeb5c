using PiOps.Shared.Queue;

namespace PiOps.Web.Queue;

/// <summary>One sample of the queue, shared by every page, the hub and the metrics.</summary>
public sealed record QueueSnapshot(
    DateTimeOffset At,
    bool RedisAvailable,
    string? RedisError,
    long Depth,
    long InFlight,
    long DeadLetters,
    QueueTotals Totals,
    double DonePerSecond,
    double FailedPerSecond,
    TimeSpan? OldestAge,
    bool Paused,
    IReadOnlyList<WorkerView> Workers,
    IReadOnlyList<HistoryPoint> History,
    IReadOnlyList<string> Head,
    IReadOnlyList<string>? Tail = null)
{
    /// <summary>The latest restart of Redis or loss of the queue's data the dashboard noticed, if any.</summary>
    public RedisNotice? Notice { get; init; }

    /// <summary>The primary, its replicas and the last failover, read every 2 s; null until read, or where INFO is refused.</summary>
    public RedisTopology? Topology { get; init; }

    /// <summary>The duties one dashboard replica at a time runs, and who runs each (docs/high-availability.md).</summary>
    public IReadOnlyList<DutyHolder> Duties { get; init; } = [];

    /// <summary>How many entries from the head, and from the tail, each sample carries, for the live first pages of the queue.</summary>
    public const int HeadSize = 25;

    public static QueueSnapshot Empty { get; } = new(DateTimeOffset.MinValue, false, "Not sampled yet", 0, 0, 0,
        new QueueTotals(0, 0, 0, 0, 0), 0, 0, null, false, [], [], []);

    public int WorkersAlive => Workers.Count(w => !w.Lost);

    /// <summary>Time to drain the queue at the current rate; null when nothing is being done.</summary>
    public TimeSpan? DrainEstimate => Depth == 0 ? TimeSpan.Zero
        : DonePerSecond > 0.01 ? TimeSpan.FromSeconds(Math.Min(Depth / DonePerSecond, TimeSpan.FromDays(365).TotalSeconds)) : null;

    /// <summary>How far an unchanged chart may lag before it slides: its points come once a second.</summary>
    public static readonly TimeSpan ChartSlide = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A new chart point counts when its values differ from the last one shown, or when the chart has not moved for
    /// <see cref="ChartSlide"/>: an idle queue's chart slides every 10 s instead of every page rendering every second.
    /// </summary>
    private bool HistoryLooksDifferentFrom(QueueSnapshot other)
    {
        if (History.Count == 0 || other.History.Count == 0)
        {
            return History.Count != other.History.Count;
        }

        var (mine, theirs) = (History[^1], other.History[^1]);
        return mine with { At = default } != theirs with { At = default } || (mine.At - theirs.At).Duration() >= ChartSlide;
    }

    /// <summary>True when what a page shows differs: saves renders of identical frames.</summary>
    public bool LooksDifferentFrom(QueueSnapshot other) =>
        RedisAvailable != other.RedisAvailable || RedisError != other.RedisError || Depth != other.Depth
        || InFlight != other.InFlight || DeadLetters != other.DeadLetters || Totals != other.Totals
        || Math.Abs(DonePerSecond - other.DonePerSecond) > 1e-9 || Math.Abs(FailedPerSecond - other.FailedPerSecond) > 1e-9
        || Paused != other.Paused || HistoryLooksDifferentFrom(other)
        || (int)(OldestAge?.TotalSeconds ?? -1) != (int)(other.OldestAge?.TotalSeconds ?? -1)
        || !Workers.SequenceEqual(other.Workers) || !Head.SequenceEqual(other.Head) || Notice != other.Notice || Topology != other.Topology
        || !Duties.SequenceEqual(other.Duties)
        || !(Tail ?? []).SequenceEqual(other.Tail ?? []);
}

/// <summary>A duty one dashboard replica at a time runs: who holds its lease, null when nobody does (or Redis is away).</summary>
public sealed record DutyHolder(string Duty, string? HeldBy, bool ThisDashboard)
{
    /// <summary>
    /// Whether the line is worth an operator's attention: not when this dashboard runs every duty, as a lone dashboard
    /// always does; yes when another replica runs one, or nobody can (Redis away, a lease changing hands).
    /// </summary>
    public static bool WorthSaying(IReadOnlyCollection<DutyHolder> duties) => duties.Any(d => !d.ThisDashboard);

    /// <summary>
    /// One line for every duty, grouped by holder: "Run by one dashboard at a time: dead-worker recovery by this
    /// dashboard (host:1:ab); CronJob triggers by host:2:cd."
    /// </summary>
    public static string Describe(IEnumerable<DutyHolder> duties) => "Run by one dashboard at a time: " + string.Join("; ", duties
        .GroupBy(d => (d.HeldBy, d.ThisDashboard))
        .Select(g => Join(g.Select(d => d.Duty).ToList()) + " by " + (g.Key.ThisDashboard ? $"this dashboard ({g.Key.HeldBy})"
            : g.Key.HeldBy ?? "no dashboard now (Redis unreachable, or the lease changing hands)"))) + ".";

    private static string Join(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];
}

/// <param name="Fenced">Late results refused because their task had been recovered for another attempt (a worker cut off from Redis).</param>
public sealed record QueueTotals(long Enqueued, long Done, long Failed, long Recovered, long Fenced);

public sealed record HistoryPoint(DateTimeOffset At, long Depth, double DonePerSecond, double FailedPerSecond, long InFlight);

/// <summary>A worker as its heartbeat describes it; Lost when it stopped beating (its tasks are being recovered).</summary>
/// <param name="Protocol">The queue protocol version it speaks (<see cref="QueueProtocol"/>): below the current one, it
/// is of an earlier version, and while it runs results are recorded a task at a time.</param>
public sealed record WorkerView(
    string Id,
    string Host,
    int Pid,
    string State,
    CurrentTask? CurrentTask,
    long Processed,
    long Failed,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    bool Lost,
    string? LostNote,
    int Protocol = QueueProtocol.Current);
