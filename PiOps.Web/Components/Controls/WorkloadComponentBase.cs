using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// A component that renders the workload runtime's snapshot: subscribes on init, re-renders at most 4 times a
/// second, unsubscribes on dispose; and runs actions with the outcome in a snackbar. It never calls the runtime's
/// backend itself.
/// </summary>
public abstract class WorkloadComponentBase : AccessComponentBase, IDisposable
{
    private IDisposable? _subscription;
    private RenderThrottle? _throttle;
    private readonly CancellationTokenSource _stop = new();

    [Inject]
    protected IWorkloadRuntime Runtime { get; set; } = default!;

    [Inject]
    protected ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    protected IDialogService Dialogs { get; set; } = default!;

    [Inject]
    protected ActionRunner Actions { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    protected WorkloadSnapshot Workloads { get; private set; } = WorkloadSnapshot.Empty;

    protected override void OnInitialized()
    {
        Workloads = Runtime.Current;
        _throttle = new RenderThrottle(() => InvokeAsync(() =>
        {
            var next = Runtime.Current;
            // Only what this page shows: a snapshot that differs in its time alone is no reason to render.
            if (next.SameContent(Workloads, withHistory: ShowsAutoscalerHistory))
            {
                return;
            }

            Workloads = next;
            OnWorkloadsChanged();
            StateHasChanged();
        }), TimeSpan.FromMilliseconds(250), Time);
        _subscription = Runtime.Subscribe(_ =>
        {
            _throttle.Request();
            return Task.CompletedTask;
        });
        if (ShowsAges)
        {
            _ = TickAsync(_stop.Token);
        }
    }

    /// <summary>Pages that show ages ("18 s") render once a second so they advance (docs/decisions.md).</summary>
    protected virtual bool ShowsAges => false;

    /// <summary>The Autoscaling page draws the chart's history; other pages need not render for a new point.</summary>
    protected virtual bool ShowsAutoscalerHistory => false;

    private async Task TickAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await InvokeAsync(() =>
                {
                    // Nothing loaded yet (a cluster not answering): keep the page's "no snapshot" state.
                    if (Workloads.At == DateTimeOffset.MinValue)
                    {
                        return;
                    }

                    Workloads = Workloads with { At = Time.GetUtcNow() };
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went between the tick and the render.
        }
    }

    /// <summary>Runs on the render thread before a render caused by a new snapshot.</summary>
    protected virtual void OnWorkloadsChanged()
    {
    }

    /// <summary>Asks first when <paramref name="confirm"/> is given: (title, what will happen, button).</summary>
    /// <param name="what">What the operator asked for, for a failure's sentence: "delete the Job nightly".</param>
    protected async Task<bool> ActAsync(string what, Func<Task> action, string done, (string Title, string Text, string Yes)? confirm = null)
    {
        if (confirm is { } c && await Dialogs.ShowMessageBoxAsync(c.Title, c.Text, yesText: c.Yes, cancelText: "Cancel") != true)
        {
            return false;
        }

        return await Actions.RunAsync(what, action, done);
    }

    public virtual void Dispose()
    {
        _stop.Cancel();
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
