using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Shared.Queue;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// Tasks: one task looked up by its id (its status, its whole life and links to its log lines), and the recent results
/// as they arrive.
/// </summary>
public sealed partial class Tasks
{
    [CascadingParameter] private DisplayZone Zone { get; set; } = DisplayZone.Utc;

    /// <summary>
    /// The Logs page on the pod that ran a task, around its start. A worker id is POD-PID-RANDOM (the worker adds its
    /// process id and a suffix to POD_NAME), so the pod is the id without its last two parts.
    /// </summary>
    private static string? LogsLink(string? worker, DateTimeOffset? at)
    {
        var parts = (worker ?? "").Split('-');
        if (parts.Length < 3 || at is null)
        {
            return null;
        }

        string pod = string.Join('-', parts[..^2]);
        return $"logs?target={Uri.EscapeDataString("pod/" + pod)}&around={Uri.EscapeDataString(at.Value.ToString("O", CultureInfo.InvariantCulture))}";
    }

    [SupplyParameterFromQuery(Name = "id")]
    public string? InitialId { get; set; }

    private string? _id;
    private string? _shownId;
    private TaskStatusRecord? _status;
    private string? _lookupMessage;
    private List<TaskResult> _results = [];
    private IDisposable? _subscription;
    private RenderThrottle? _throttle;

    protected override async Task OnInitializedAsync()
    {
        if (await Actions.TryAsync("read the recent results", async () => _results = (await Ops.RecentResultsAsync(50)).ToList()) is { } failure)
        {
            Snackbar.Add(failure.Message, Severity.Error);
        }

        // New results arrive from the shared completion feed: no Redis read per viewer.
        _throttle = new RenderThrottle(() => InvokeAsync(StateHasChanged), TimeSpan.FromMilliseconds(100), TimeProvider.System);
        _subscription = Monitor.SubscribeCompletions(r => InvokeAsync(() =>
        {
            _results.Insert(0, r);
            if (_results.Count > 50)
            {
                _results.RemoveAt(_results.Count - 1);
            }

            _throttle.Request();
        }));
    }

    // A task id is a link (tasks?id=...): keyboard, middle-click and copy work as on any link, and following one from
    // this page's own table sets only the parameter.
    protected override async Task OnParametersSetAsync()
    {
        if (!string.IsNullOrWhiteSpace(InitialId) && InitialId != _shownId)
        {
            await ShowAsync(InitialId);
        }
    }

    private async Task ShowAsync(string id)
    {
        _id = id;
        await LookUpAsync();
    }

    private async Task LookUpAsync()
    {
        _status = null;
        _lookupMessage = null;
        string id = (_id ?? "").Trim();
        _shownId = id;
        if (id.Length > 0 && RendererInfo.IsInteractive && Nav.GetQueryParameter("id") != id)
        {
            // Deep link: the address names the task shown, so it can be pasted into an incident channel.
            Nav.NavigateTo(Nav.GetUriWithQueryParameter("id", id), replace: true);
        }

        if (id.Length == 0)
        {
            _lookupMessage = "Enter a task id, as returned when the task was enqueued (e.g. t-019ac5…).";
            return;
        }

        if (await Actions.TryAsync($"look up the task {id}", async () => _status = await Ops.GetTaskAsync(id)) is { } failure)
        {
            _lookupMessage = failure.Message;
        }
        else if (_status is null)
        {
            _lookupMessage = $"No task {id} is known: it never existed, its status expired (after {Format.Duration(Ops.Queue.StatusTtl)}), or it was enqueued as a plain integer, which carries no id until a worker takes it.";
        }
    }

    private static Color StateColor(TaskState s) => s switch
    {
        TaskState.Done => Color.Success,
        TaskState.Dead => Color.Error,
        TaskState.Processing => Color.Info,
        _ => Color.Default,
    };

    public void Dispose() => _subscription?.Dispose();
}
