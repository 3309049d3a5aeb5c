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

    [Inject]
    protected IWorkloadRuntime Runtime { get; set; } = default!;

    [Inject]
    protected ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    protected IDialogService Dialogs { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    protected WorkloadSnapshot Workloads { get; private set; } = WorkloadSnapshot.Empty;

    protected override void OnInitialized()
    {
        Workloads = Runtime.Current;
        _throttle = new RenderThrottle(() => InvokeAsync(() =>
        {
            Workloads = Runtime.Current;
            OnWorkloadsChanged();
            StateHasChanged();
        }), TimeSpan.FromMilliseconds(250), Time);
        _subscription = Runtime.Subscribe(_ =>
        {
            _throttle.Request();
            return Task.CompletedTask;
        });
    }

    /// <summary>Runs on the render thread before a render caused by a new snapshot.</summary>
    protected virtual void OnWorkloadsChanged()
    {
    }

    /// <summary>Asks first when <paramref name="confirm"/> is given: (title, what will happen, button).</summary>
    protected async Task<bool> ActAsync(Func<Task> action, string done, (string Title, string Text, string Yes)? confirm = null)
    {
        if (confirm is { } c && await Dialogs.ShowMessageBoxAsync(c.Title, c.Text, yesText: c.Yes, cancelText: "Cancel") != true)
        {
            return false;
        }

        try
        {
            await action();
            Snackbar.Add(done, Severity.Success);
            return true;
        }
        catch (WorkloadActionException ex)
        {
            Snackbar.Add(ex.Message, Severity.Error);
            return false;
        }
    }

    public virtual void Dispose()
    {
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
