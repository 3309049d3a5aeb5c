using PiOps.Web.Queue;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Live;

/// <summary>
/// Makes the live views the pages use, one per circuit: the queue's snapshot (at most 10 renders a second, only when
/// something shown changed) and the workload runtime's (at most 4 a second, only when the content changed; once a
/// second for pages that show ages, docs/decisions.md).
/// </summary>
public sealed class LiveViews(IQueueState monitor, IWorkloadRuntime runtime, TimeProvider time)
{
    public static readonly TimeSpan QueueInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan WorkloadInterval = TimeSpan.FromMilliseconds(250);

    /// <param name="same">What counts as nothing new, when a component looks at less than a page shows.</param>
    public LiveView<QueueSnapshot> Queue(LiveHost host, Action<QueueSnapshot>? changed = null, Func<QueueSnapshot, QueueSnapshot, bool>? same = null) =>
        new(new(() => monitor.Current, handler => new Both(monitor.Subscribe(handler), monitor.Watch())), same ?? ((shown, next) => !next.LooksDifferentFrom(shown)), QueueInterval, time, host, changed);

    /// <param name="ages">
    /// Whether the page shows an age in this snapshot ("18 s", "in 2 min"): then it renders once a second with the
    /// snapshot's time set to now, so ages advance. A page with nothing aged (no Job, no pod) does not tick: 50 idle
    /// pages ticking cost a few percent of a core for nothing (bench/README.md, page-cost).
    /// </param>
    /// <param name="history">Renders for a new point of the autoscaler's history (the Autoscaling page's chart).</param>
    public LiveView<WorkloadSnapshot> Workloads(LiveHost host, Action<WorkloadSnapshot>? changed = null, Func<WorkloadSnapshot, bool>? ages = null, bool history = false) =>
        new(
            // The runtime's snapshot when the render comes, not the one published: after a namespace switch it is the new one's.
            new(() => runtime.Current, handler => runtime.Subscribe(_ => handler(runtime.Current))),
            (shown, next) => next.SameContent(shown, withHistory: history), WorkloadInterval, time, host, changed,
            // Nothing loaded yet (a cluster not answering): keep the page's "no snapshot" state.
            ages is not null ? s => s.At == DateTimeOffset.MinValue || !ages(s) ? null : s with { At = time.GetUtcNow() } : null,
            TimeSpan.FromSeconds(1));

    private sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
