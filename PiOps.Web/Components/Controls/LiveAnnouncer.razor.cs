using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Web.Components.Live;
using PiOps.Web.Queue;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The layout's one polite live region: it says what the snackbars show, Redis's reachability changing and Jobs that
/// fail, at most once per <see cref="Interval"/>.
/// </summary>
public sealed partial class LiveAnnouncer
{
    /// <summary>At most one announcement per interval: a burst of outcomes is read as one message.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private string _text = "";
    private bool _alternate;
    private RenderThrottle? _throttle;
    private IDisposable? _announcements;
    private LiveView<QueueSnapshot>? _queue;
    private LiveView<WorkloadSnapshot>? _workloads;
    private IDisposable? _switches;
    private readonly HashSet<Snackbar> _heard = [];
    private bool? _redisUp;
    private IReadOnlyList<JobView>? _jobs;

    protected override void OnInitialized()
    {
        // Prerendering has no one to speak to.
        if (!RendererInfo.IsInteractive)
        {
            return;
        }

        _throttle = new RenderThrottle(SpeakAsync, Interval, Time);
        _announcements = Announcer.OnChanged(() =>
        {
            _throttle.Request();
            return Task.CompletedTask;
        });
        Snackbar.OnSnackbarsUpdated += SnackbarsUpdated;
        // The snapshots are looked at for what to say; nothing of them is shown here, so a change renders nothing.
        var quiet = new LiveHost(InvokeAsync, () => { });
        // Only Redis's reachability is said: the numbers changing are nothing new here.
        _queue = Live.Queue(quiet, Observe, (shown, next) => shown.RedisAvailable == next.RedisAvailable
            && (shown.At == DateTimeOffset.MinValue) == (next.At == DateTimeOffset.MinValue));
        Observe(_queue.Value);
        _jobs = Runtime.Current.Jobs;
        // Another namespace's Jobs are not news: its first snapshot is the new baseline.
        _switches = Selection.OnChanged(_ =>
        {
            _jobs = null;
            return Task.CompletedTask;
        });
        _workloads = Live.Workloads(quiet, s =>
        {
            var before = _jobs;
            _jobs = s.Jobs;
            foreach (var job in before is null ? [] : Announcer.NewlyFailed(before, s.Jobs))
            {
                Announcer.Say($"Job {job.Name} failed{(job.Reason is null ? "" : ": " + job.Reason)}");
            }
        });
    }

    // Only a change of Redis's reachability is said, never the numbers of a snapshot.
    private void Observe(QueueSnapshot s)
    {
        if (s.At == DateTimeOffset.MinValue)
        {
            return;
        }

        if (_redisUp is { } up && up != s.RedisAvailable)
        {
            Announcer.Say(s.RedisAvailable ? "Redis answers again" : $"Redis is unreachable: {s.RedisError}. The dashboard keeps retrying");
        }

        _redisUp = s.RedisAvailable;
    }

    private void SnackbarsUpdated()
    {
        lock (_heard)
        {
            var shown = Snackbar.ShownSnackbars.ToList();
            foreach (var snackbar in shown)
            {
                if (_heard.Add(snackbar))
                {
                    Announcer.Say(snackbar.Message ?? "");
                }
            }

            _heard.IntersectWith(shown);
        }
    }

    private Task SpeakAsync() => InvokeAsync(() =>
    {
        if (Announcer.Take() is { } text)
        {
            // The same words as last time would not be read again: a no-break space makes them new.
            _alternate = !_alternate;
            _text = _alternate ? text : text + "\u00a0";
            StateHasChanged();
        }
    });

    public async ValueTask DisposeAsync()
    {
        Snackbar.OnSnackbarsUpdated -= SnackbarsUpdated;
        _announcements?.Dispose();
        _switches?.Dispose();
        if (_queue is not null)
        {
            await _queue.DisposeAsync();
        }

        if (_workloads is not null)
        {
            await _workloads.DisposeAsync();
        }
    }
}
