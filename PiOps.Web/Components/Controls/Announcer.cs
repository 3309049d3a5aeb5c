using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// What this circuit's polite live region says next (WCAG 4.1.3): an action's outcome, a Job failing, Redis or the
/// cluster becoming unreachable or answering again. Anything may call <see cref="Say"/>, from any thread;
/// <see cref="LiveAnnouncer"/> speaks what is pending at most every <see cref="LiveAnnouncer.Interval"/>, and only the
/// newest <see cref="MaxPending"/> messages, so a burst never floods a screen reader. Live numbers are never said.
/// </summary>
public sealed class Announcer
{
    public const int MaxPending = 3;

    private readonly object _gate = new();
    private readonly List<string> _pending = [];
    private int _dropped;
    private Func<Task>? _changed;

    public void Say(string message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return;
        }

        lock (_gate)
        {
            // The same words twice in a row (a retried action, a flapping connection) are said once.
            if (_pending.Count > 0 && _pending[^1] == message)
            {
                return;
            }

            _pending.Add(message);
            if (_pending.Count > MaxPending)
            {
                _pending.RemoveAt(0);
                _dropped++;
            }
        }

        _changed?.Invoke();
    }

    /// <summary>What is pending, as one text, and clears it; null when nothing is.</summary>
    public string? Take()
    {
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return null;
            }

            string text = string.Join(" ", _pending.Select(m => m.TrimEnd().EndsWith('.') ? m.TrimEnd() : m.TrimEnd() + "."));
            if (_dropped > 0)
            {
                text = $"{_dropped} earlier message(s) skipped. " + text;
            }

            _pending.Clear();
            _dropped = 0;
            return text;
        }
    }

    /// <summary>Calls <paramref name="changed"/> after each <see cref="Say"/>; one listener, the layout's live region.</summary>
    public IDisposable OnChanged(Func<Task> changed)
    {
        _changed = changed;
        return new Unsubscribe(this, changed);
    }

    /// <summary>The Jobs of <paramref name="after"/> that are Failed and were not in <paramref name="before"/>.</summary>
    public static IEnumerable<JobView> NewlyFailed(IEnumerable<JobView> before, IEnumerable<JobView> after)
    {
        var failed = before.Where(j => j.Condition == "Failed").Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
        return after.Where(j => j.Condition == "Failed" && !failed.Contains(j.Name));
    }

    private sealed class Unsubscribe(Announcer owner, Func<Task> changed) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._changed, null, changed);
    }
}
