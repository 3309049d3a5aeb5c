namespace PiOps.Web.Workloads;

/// <summary>
/// The Autoscaling page's chart, kept the same way by both runtimes: replicas, desired replicas and tasks waiting, one
/// point a second (the queue charts' clock), for as long as Dashboard:History says (the queue charts' setting).
/// Thread-safe.
/// </summary>
public sealed class AutoscalerHistory(TimeSpan length)
{
    /// <summary>One point a second at most, as the queue's history.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Queue<AutoscalerPoint> _points = new();
    private readonly object _gate = new();
    private IReadOnlyList<AutoscalerPoint> _copy = [];
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    /// <summary>Adds a point unless the last is younger than <see cref="Interval"/>; drops points older than the length kept. True when one was added.</summary>
    public bool Record(DateTimeOffset now, int replicas, int desired, long queueDepth)
    {
        lock (_gate)
        {
            if (now - _last < Interval)
            {
                return false;
            }

            _last = now;
            _points.Enqueue(new AutoscalerPoint(now, replicas, desired, queueDepth));
            while (now - _points.Peek().At > length)
            {
                _points.Dequeue();
            }

            _copy = [.. _points];
            return true;
        }
    }

    /// <summary>The points kept, oldest first: a copy that does not change.</summary>
    public IReadOnlyList<AutoscalerPoint> Points
    {
        get
        {
            lock (_gate)
            {
                return _copy;
            }
        }
    }
}
