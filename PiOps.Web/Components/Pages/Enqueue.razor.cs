using System.Globalization;
using PiOps.Shared.Queue;
using PiOps.Web.Components.Controls;
using PiOps.Web.Queue;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// Enqueue: tasks of n iterations pushed to the tail of the queue, as envelopes or plain integers, or ten random ones
/// like the book; a large batch shows its progress.
/// </summary>
public sealed partial class Enqueue
{
    private string? _iterations = "5000000";
    private string? _count = "1";
    private EntryFormat _format;
    private Dictionary<string, string[]> _errors = new();
    private bool _busy;
    private int _done;
    private int _total;
    private EnqueueOutcome? _last;

    protected override void OnInitialized() => _format = Ops.Queue.ProducerFormat;

    private string? Error(string field) => _errors.TryGetValue(field, out var e) ? e[0] : null;

    private async Task EnqueueAsync()
    {
        _errors = Ops.Validate(_iterations, _count);
        if (_errors.Count > 0)
        {
            // Refused changes are audited too, as the Audit page promises.
            await Ops.RecordAsync("enqueue", $"{Shorten(_iterations)} iterations × {Shorten(_count)}, {_format}", false,
                "refused: " + string.Join(" ", _errors.Select(e => e.Value[0])));
            return;
        }

        long n = long.Parse(_iterations!.Trim().TrimStart('+'), CultureInfo.InvariantCulture);
        int k = int.Parse(_count!.Trim().TrimStart('+'), CultureInfo.InvariantCulture);
        await RunAsync(() => Ops.EnqueueAsync(n, k, _format, new Progress<int>(OnProgress)), k);
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 40 ? text : text[..40] + "…";

    private Task LikeTheBookAsync() => RunAsync(() => Ops.EnqueueLikeTheBookAsync(_format), 10);

    private async Task RunAsync(Func<Task<EnqueueOutcome>> action, int total)
    {
        _busy = true;
        _done = 0;
        _total = total;
        try
        {
            await Actions.RunAsync("enqueue", async () =>
            {
                var outcome = await action();
                // The page keeps the first and last ids only: a million ids would cost the circuit tens of MiB.
                _last = outcome with { Ids = outcome.Ids.Count <= 2 ? outcome.Ids : [outcome.Ids[0], outcome.Ids[^1]], Iterations = [] };
            }, () => $"Enqueued {Format.Count(_last!.Count)} task(s); queue depth is now {Format.Count(_last.QueueDepth)}.");
        }
        finally
        {
            _busy = false;
        }
    }

    private void OnProgress(int done)
    {
        _done = done;
        _ = InvokeAsync(StateHasChanged);
    }
}
