using Microsoft.AspNetCore.Components;
using PiOps.Web.Queue;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// A component that renders the shared queue snapshot: subscribes on init, re-renders at most 10 times a second and
/// only when something shown changed, unsubscribes on dispose. It never reads Redis itself.
/// </summary>
public abstract class LiveComponentBase : AccessComponentBase, IDisposable
{
    private IDisposable? _subscription;
    private RenderThrottle? _throttle;
    private volatile QueueSnapshot? _pending;

    [Inject]
    protected IQueueState Monitor { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    protected QueueSnapshot Snapshot { get; private set; } = QueueSnapshot.Empty;

    protected override void OnInitialized()
    {
        Snapshot = Monitor.Current;
        _throttle = new RenderThrottle(ApplyAsync, TimeSpan.FromMilliseconds(100), Time);
        _subscription = Monitor.Subscribe(s =>
        {
            if (s.LooksDifferentFrom(_pending ?? Snapshot))
            {
                _pending = s;
                _throttle.Request();
            }

            return Task.CompletedTask;
        });
    }

    private Task ApplyAsync() => InvokeAsync(() =>
    {
        if (_pending is { } s)
        {
            Snapshot = s;
            _pending = null;
            OnSnapshotChanged();
            StateHasChanged();
        }
    });

    /// <summary>Runs on the render thread before a render caused by a new snapshot.</summary>
    protected virtual void OnSnapshotChanged()
    {
    }

    public virtual void Dispose()
    {
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
