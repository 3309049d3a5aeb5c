using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Queue;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// Dead letters: entries that will not run (bad input, kept whole with the reason, and tasks whose workers died too
/// often), a page at a time, to retry or delete one by one or all at once.
/// </summary>
public sealed partial class DeadLetters
{
    private const int PageSize = 25;
    private int _offset;
    private DeadLetterPage? _page;
    private long _seenCount = -1;
    private string? _error;
    private bool _disposed;

    protected override async Task OnInitializedAsync()
    {
        _live = Live.Queue(new(InvokeAsync, StateHasChanged), _ => OnSnapshotChanged());
        await LoadAsync();
    }

    private LiveView<QueueSnapshot>? _live;

    private QueueSnapshot Snapshot => _live?.Value ?? QueueSnapshot.Empty;

    private void OnSnapshotChanged()
    {
        // Read the page again only when the number of dead letters changed since the last successful read.
        if (Snapshot.DeadLetters != _seenCount)
        {
            _ = InvokeAsync(LoadAsync);
        }
    }

    private async Task LoadAsync()
    {
        var failure = await Actions.TryAsync("read the dead letters", async () =>
        {
            _page = await Ops.DeadLettersAsync(_offset, PageSize);
            _seenCount = _page.Total;
        });
        _error = failure?.Message;
        if (failure is not null)
        {
            // Shown on the page, and read again shortly: a failed read must not leave the page stale.
            _ = RetrySoonAsync();
        }

        StateHasChanged();
    }

    private async Task RetrySoonAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (!_disposed && _error is not null)
        {
            await InvokeAsync(LoadAsync);
        }
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        return _live?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private async Task MoveAsync(int delta)
    {
        _offset = Math.Max(0, _offset + delta);
        await LoadAsync();
    }

    private async Task RetryAsync(DeadLetterItem item)
    {
        if (item.RetryEntry is not null)
        {
            await ActAsync("retry the dead letter", async () => Ran(await Ops.RetryDeadLetterAsync(item.Record)), "Put back on the queue");
            return;
        }

        var parameters = new DialogParameters<CorrectAndRetryDialog>
        {
            { d => d.Entry, Shorten(item.Letter?.Entry ?? item.Record) },
            { d => d.Reason, item.WhyNotRetryable ?? "" },
            { d => d.Iterations, item.SuggestedIterations },
        };
        var dialog = await Dialogs.ShowAsync<CorrectAndRetryDialog>("Correct and retry", parameters);
        var result = await dialog.Result;
        if (result is { Canceled: false, Data: long n })
        {
            await ActAsync("retry the dead letter", async () => Ran(await Ops.RetryDeadLetterAsync(item.Record, n)), $"Put back on the queue with {Format.Count(n)} iterations");
        }
    }

    private async Task DeleteAsync(DeadLetterItem item)
    {
        bool? ok = await Dialogs.ShowMessageBoxAsync("Delete this dead letter?", $"The entry \"{Shorten(item.Letter?.Entry ?? item.Record)}\" is removed for good.",
            yesText: "Delete", cancelText: "Cancel");
        if (ok == true)
        {
            await ActAsync("delete the dead letter", () => Ops.DeleteDeadLetterAsync(item.Record), "Deleted.");
        }
    }

    private async Task RetryAllAsync()
    {
        (long Retried, long Left) outcome = default;
        if (await Actions.TryAsync("retry every dead letter", async () => outcome = await Ops.RetryAllDeadLettersAsync()) is { } failure)
        {
            Snackbar.Add(failure.Message, Severity.Error);
        }
        else
        {
            Snackbar.Add(outcome.Left == 0 ? $"Put {Format.Count(outcome.Retried)} entries back on the queue."
                : $"Put {Format.Count(outcome.Retried)} entries back on the queue; {Format.Count(outcome.Left)} cannot run as they are (bad input) and stay here.", Severity.Success);
        }

        await LoadAsync();
    }

    private async Task DeleteAllAsync()
    {
        long count = _page?.Total ?? Snapshot.DeadLetters;
        bool? ok = await Dialogs.ShowMessageBoxAsync("Delete all dead letters?",
            $"This removes the {Format.Count(count)} dead letter(s) there are now, for good. Ones that arrive after you confirm stay.",
            yesText: $"Delete {Format.Count(count)}", cancelText: "Cancel");
        if (ok != true)
        {
            return;
        }

        long removed = 0;
        await Actions.RunAsync("delete every dead letter", async () => removed = await Ops.DeleteAllDeadLettersAsync(count),
            () => $"Deleted {Format.Count(removed)} dead letter(s).");

        _offset = 0;
        await LoadAsync();
    }

    // The task id a retry runs as, for the snackbar: every enqueue says which id it made.
    private string? _ranAs;

    private void Ran(string? id) => _ranAs = id;

    private async Task ActAsync(string what, Func<Task> action, string done)
    {
        _ranAs = null;
        done = done.TrimEnd('.');
        await Actions.RunAsync(what, action, () => _ranAs is null ? done + "." : $"{done}, as task {_ranAs}: look it up on the Tasks page.");
        await LoadAsync();
    }

    private static string Shorten(string s) => s.Length > 120 ? s[..120] + $"… ({s.Length:N0} characters)" : s;
}
