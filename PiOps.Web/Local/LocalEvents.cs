using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>
/// The events the local runtime records about a pod or a Job: only what it saw itself (a process it started, an exit
/// code it read, a Job it finished), named as the Job controller and kubelet name theirs. Like the API server, an
/// event that happens again counts up instead of adding a line; bounded to the most recent
/// <see cref="ObjectEvent.Limit"/>. Used under the runtime's lock.
/// </summary>
internal sealed class LocalEvents
{
    private readonly List<ObjectEvent> _events = [];

    public void Record(DateTimeOffset at, string type, string reason, string message)
    {
        int same = _events.FindIndex(e => e.Type == type && e.Reason == reason && e.Message == message);
        if (same >= 0)
        {
            var again = _events[same];
            _events.RemoveAt(same);
            _events.Add(again with { At = at, Count = again.Count + 1 });
            return;
        }

        _events.Add(new ObjectEvent(at, type, reason, message, 1));
        if (_events.Count > ObjectEvent.Limit)
        {
            _events.RemoveAt(0);
        }
    }

    public void Normal(DateTimeOffset at, string reason, string message) => Record(at, ObjectEvent.Normal, reason, message);

    public void Warning(DateTimeOffset at, string reason, string message) => Record(at, ObjectEvent.Warning, reason, message);

    /// <summary>Most recent first, as the views carry them (the list is in the order they last happened).</summary>
    public IReadOnlyList<ObjectEvent> Recent() => ObjectEvent.Recent(Enumerable.Reverse(_events));
}
