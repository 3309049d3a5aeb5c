using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Queue;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// The queue, a page at a time from the head or from the tail (newest first), the first page live; pause, resume and
/// purge.
/// </summary>
public sealed partial class QueueView
{
    private const int PageSize = QueueSnapshot.HeadSize;
    private QueueEnd _end = QueueEnd.Head;
    private int _offset;
    private QueuePage? _page;
    private bool _loading;

    private string PageText => _page is null || _page.Length == 0 ? "" :
        $"{(_end == QueueEnd.Head ? "from the head" : "from the tail, newest first")}: {Format.Count(_offset + 1)}–{Format.Count(Math.Min(_page.Length, _offset + PageSize))} of {Format.Count(_page.Length)}";

    protected override async Task OnInitializedAsync()
    {
        _live = Live.Queue(new(InvokeAsync, StateHasChanged), _ => OnSnapshotChanged());
        await LoadAsync();
    }

    private LiveView<QueueSnapshot>? _live;

    private QueueSnapshot Snapshot => _live?.Value ?? QueueSnapshot.Empty;

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;

    private void OnSnapshotChanged()
    {
        // The first page from the head is live, from the shared sample (no Redis read per viewer). Other pages are
        // read when asked for.
        if (_offset == 0)
        {
            _page = LivePage();
        }
    }

    // The first page from either end is live, from the shared sample; the tail is shown newest first.
    private QueuePage LivePage() => _end == QueueEnd.Head
        ? new(QueueEnd.Head, 0, Snapshot.Depth, Snapshot.Head.Select((raw, i) => QueueItem.From(i, raw, Ops.Queue)).ToList())
        : NewestFirst(new(QueueEnd.Tail, 0, Snapshot.Depth,
            (Snapshot.Tail ?? []).Select((raw, i) => QueueItem.From(Snapshot.Depth - (Snapshot.Tail ?? []).Count + i, raw, Ops.Queue)).ToList()));

    private static QueuePage NewestFirst(QueuePage page) =>
        page.End == QueueEnd.Tail ? page with { Items = page.Items.Reverse().ToList() } : page;

    private async Task LoadAsync()
    {
        if (_offset == 0 && Snapshot.At != DateTimeOffset.MinValue)
        {
            _page = LivePage();
            return;
        }

        _loading = _page is null;
        try
        {
            if (await Actions.TryAsync("read the queue", async () => _page = NewestFirst(await Ops.PeekAsync(_end, _offset, PageSize))) is { } failure)
            {
                Snackbar.Add(failure.Message, Severity.Error);
            }
        }
        finally
        {
            _loading = false;
            StateHasChanged();
        }
    }

    private async Task TabChangedAsync(int index)
    {
        _end = index == 0 ? QueueEnd.Head : QueueEnd.Tail;
        _offset = 0;
        await LoadAsync();
    }

    private async Task MoveAsync(int delta)
    {
        _offset = Math.Max(0, _offset + delta);
        await LoadAsync();
    }

    private async Task SetPausedAsync(bool paused)
    {
        await Actions.RunAsync(paused ? "pause the queue" : "resume the queue", () => Ops.SetPausedAsync(paused),
            paused ? "Paused: workers finish their current task and take no new one." : "Resumed: workers take tasks again.");
    }

    private async Task PurgeAsync()
    {
        long count = Snapshot.Depth;
        if (await Actions.TryAsync("count the queue", async () => count = (await Ops.PeekAsync(QueueEnd.Head, 0, 1)).Length) is { } failure)
        {
            Snackbar.Add(failure.Message, Severity.Error);
            return;
        }

        bool? ok = await Dialogs.ShowMessageBoxAsync("Purge the queue?",
            $"This removes the {Format.Count(count)} task(s) waiting now, oldest first (the book's LTRIM). Tasks enqueued after you confirm, and tasks in flight, stay. This cannot be undone.",
            yesText: $"Remove {Format.Count(count)} task(s)", cancelText: "Cancel");
        if (ok != true)
        {
            return;
        }

        long removed = 0;
        if (await Actions.RunAsync("purge the queue", async () => removed = await Ops.PurgeAsync(count),
                () => $"Removed {Format.Count(removed)} task(s) from the queue."))
        {
            _offset = 0;
            await LoadAsync();
        }
    }
}
