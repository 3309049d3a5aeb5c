using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// Live logs of one pod, the workers Deployment or a Job, merged in time order with a colour per pod; pods that
/// appear are attached and pods that go are marked. Rendering is virtualised and at most 10 times a second.
/// </summary>
public sealed partial class Logs : AccessComponentBase, IAsyncDisposable
{
    /// <summary>Pod colours: text on the dark log pane and fills under black text, 4.5:1 both ways (ThemeContrastFacts).</summary>
    public static readonly string[] PodPalette =
        ["#80cbc4", "#ffcc80", "#b39ddb", "#90caf9", "#f48fb1", "#c5e1a5", "#ffab91", "#80deea", "#e6ee9c", "#bcaaa4"];

    private LogSession? _session;
    private RenderThrottle? _throttle;
    private string? _target;
    // The container read in each pod (kubectl logs -c); null: the one kubectl would choose.
    private string? _container;
    private string _tailText = "200";
    private string? _filter;
    private string? _filterError;
    private Regex? _pattern;
    private bool _regex;
    private bool _follow = true;
    private bool _pausedByScroll;
    private ElementReference _pane;
    private DotNetObjectReference<Logs>? _self;
    private bool _wrap;
    private bool _timestamps = true;
    private long _receivedAtPause;
    private long _newWhilePaused;
    private DateTimeOffset? _around;
    private int _sinceMinutes;
    private readonly HashSet<string> _excluded = new(StringComparer.Ordinal);
    private IReadOnlyList<TailedPod> _pods = [];
    private List<LogLine> _shown = [];
    private Dictionary<string, int> _colours = new(StringComparer.Ordinal);

    [SupplyParameterFromQuery(Name = "target")]
    public string? InitialTarget { get; set; }

    [SupplyParameterFromQuery(Name = "container")]
    public string? InitialContainer { get; set; }

    [SupplyParameterFromQuery(Name = "around")]
    public string? InitialAround { get; set; }

    [SupplyParameterFromQuery(Name = "filter")]
    public string? InitialFilter { get; set; }

    [SupplyParameterFromQuery(Name = "regex")]
    public bool? InitialRegex { get; set; }

    [Inject]
    private NavigationManager Nav { get; set; } = default!;

    [Inject]
    private LiveViews Live { get; set; } = default!;

    [Inject]
    private IWorkloadRuntime Runtime { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    private LiveView<WorkloadSnapshot>? _live;

    private WorkloadSnapshot Workloads => _live?.Value ?? Runtime.Current;

    /// <summary>Deep link: the address says what the page shows (target, filter, regex, the task's window).</summary>
    private void KeepInAddress()
    {
        if (!RendererInfo.IsInteractive)
        {
            return;
        }

        string uri = Nav.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["target"] = _target,
            ["container"] = _container,
            ["filter"] = string.IsNullOrEmpty(_filter) ? null : _filter,
            ["regex"] = _regex ? true : null,
            ["around"] = _around?.ToString("O", CultureInfo.InvariantCulture),
        });
        if (uri != Nav.Uri)
        {
            Nav.NavigateTo(uri, replace: true);
        }
    }

    protected override void OnInitialized()
    {
        _live = Live.Workloads(new(InvokeAsync, StateHasChanged));
        // Log lines are a stream, not a snapshot: each new batch asks for a render, at most 10 a second.
        _throttle = new RenderThrottle(() => InvokeAsync(Refresh), TimeSpan.FromMilliseconds(100), Time);
        _target = LogTarget.Parse(InitialTarget)?.ToString() ?? new LogTarget(LogTargetKind.Deployment, Workloads.Workers.Name).ToString();
        if (DateTimeOffset.TryParse(InitialAround, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var around))
        {
            _around = around;
        }

        _filter = InitialFilter;
        _regex = InitialRegex ?? false;
        _container = string.IsNullOrWhiteSpace(InitialContainer) ? null : InitialContainer.Trim();

        Restart();
    }

    private IEnumerable<string> TargetOptions =>
        new[] { new LogTarget(LogTargetKind.Deployment, Workloads.Workers.Name).ToString() }
            .Concat(Workloads.Jobs.Select(j => new LogTarget(LogTargetKind.Job, j.Name).ToString()))
            .Concat(Workloads.Workers.Pods.Concat(Workloads.Jobs.SelectMany(j => j.Pods)).Select(p => new LogTarget(LogTargetKind.Pod, p.Name).ToString()))
            .Append(_target ?? "")
            .Where(t => t.Length > 0)
            .Distinct();

    private string? _selectorText;

    private string? _selectorError;

    /// <summary>Tails what a label selector selects (kubectl's -l); a bad selector is explained and changes nothing.</summary>
    private void SelectorEntered()
    {
        if (string.IsNullOrWhiteSpace(_selectorText))
        {
            _selectorError = null;
            return;
        }

        _selectorError = LabelSelector.TryParse(_selectorText, out var error) is not null ? null : error;
        string target = new LogTarget(LogTargetKind.Selector, _selectorText.Trim()).ToString();
        if (_selectorError is null && target != _target)
        {
            // Enter, then leaving the field, is one change: tailing again would drop the page's state twice.
            TargetChanged(target);
        }
    }

    private async Task SelectorKeyUp(Microsoft.AspNetCore.Components.Web.KeyboardEventArgs e)
    {
        if (e.Key == "Enter")
        {
            await Task.Yield();
            SelectorEntered();
        }
    }

    /// <summary>The containers of the target's pods; the picker is offered when there is more than one (a sidecar).</summary>
    private IReadOnlyList<string> Containers
    {
        get
        {
            // The session's target, parsed once when it started, not again at every render.
            var names = _session?.Target.Containers(Workloads) ?? [];
            return _container is null || names.Contains(_container) ? names : [.. names, _container];
        }
    }

    private void ContainerChanged(string container)
    {
        _container = container.Length == 0 ? null : container;
        Restart();
        KeepInAddress();
    }

    private void TargetChanged(string target)
    {
        _target = target;
        // Another target's pods may not have the container picked for this one.
        _container = null;
        _excluded.Clear();
        Restart();
        KeepInAddress();
    }

    private void Restart()
    {
        _session?.Dispose();
        _error = null;
        var target = LogTarget.TryParse(_target, out var error);
        if (target is null)
        {
            _error = error;
            return;
        }

        if (!FormNumbers.TryWhole(_tailText, out int tail) || tail > LogOptions.Value.LinesPerPod)
        {
            _error = $"Last lines per pod must be a whole number from 0 to {LogOptions.Value.LinesPerPod:N0} (Logs:LinesPerPod); showing 200.";
            tail = 200;
        }

        _session = new LogSession(Runtime, Tailer, target with { Container = _container }, LogOptions.Value.LinesInPage, tail, () => _throttle?.Request());
        Refresh();
    }

    private string? _error;

    private void Refresh()
    {
        if (_session is null)
        {
            return;
        }

        _pods = _session.Pods;
        foreach (var pod in _pods)
        {
            _colours[pod.Name] = pod.Colour;
        }

        if (_follow)
        {
            Apply();
        }
        else
        {
            _newWhilePaused = _session.Received - _receivedAtPause;
        }

        StateHasChanged();
    }

    private void Apply()
    {
        if (_session is null)
        {
            return;
        }

        _pattern = LogFilter.Compile(_filter, _regex, out _filterError);
        _shown = LogFilter.Select(_session.Lines, _excluded, _sinceMinutes > 0 ? Time.GetUtcNow().AddMinutes(-_sinceMinutes) : null, _around, _pattern);
        var kept = _session.Lines;
        _explanation = _shown.Count > 0 ? null : LogPaneExplanation.Explain(_session.Target, Workloads, Runtime.IsLocal, _session.Pods, kept,
            _around, _pattern is not null || _sinceMinutes > 0 || _excluded.Count > 0, LogOptions.Value.LinesPerPod, t => Zone.Clock(t));
    }

    private string? _explanation;

    private void TailWorkers()
    {
        _around = null;
        TargetChanged(new LogTarget(LogTargetKind.Deployment, Workloads.Workers.Name).ToString());
    }

    private IEnumerable<(string Text, bool Match)> Segments(string text) => LogFilter.Segments(_pattern, text);

    private void SinceChanged(int minutes)
    {
        _sinceMinutes = minutes;
        Apply();
    }

    /// <summary>
    /// The filter as typed: after the debounce, or at once when the field loses focus (a click on Regex), so every way
    /// the text changes applies it.
    /// </summary>
    private void FilterTyped(string text)
    {
        _filter = text;
        Apply();
        KeepInAddress();
    }

    private void RegexChanged(bool value)
    {
        _regex = value;
        Apply();
        KeepInAddress();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _self = DotNetObjectReference.Create(this);
            await JS.InvokeVoidAsync("piopsLogFollow.attach", _pane, _self);
        }
    }

    private async Task FollowChanged(bool value)
    {
        SetFollow(value, byScroll: false);
        await JS.InvokeVoidAsync("piopsLogFollow.follow", _pane, value);
    }

    private Task ToNewestAsync() => FollowChanged(true);

    /// <summary>The operator scrolled up: the view stays where they put it, and the page says so.</summary>
    [JSInvokable]
    public Task ScrolledAway() => InvokeAsync(() =>
    {
        SetFollow(false, byScroll: true);
        StateHasChanged();
    });

    /// <summary>The operator scrolled back to the newest line: following again.</summary>
    [JSInvokable]
    public Task ScrolledToEnd() => InvokeAsync(() =>
    {
        SetFollow(true, byScroll: true);
        StateHasChanged();
    });

    private void SetFollow(bool value, bool byScroll)
    {
        if (value == _follow)
        {
            return;
        }

        _follow = value;
        _pausedByScroll = !value && byScroll;
        _receivedAtPause = _session?.Received ?? 0;
        _newWhilePaused = 0;
        if (_follow)
        {
            Apply();
        }
    }

    private void TimestampsChanged(bool value) => _timestamps = value;

    private void Toggle(string pod)
    {
        if (!_excluded.Remove(pod))
        {
            _excluded.Add(pod);
        }

        Apply();
    }

    private void ClearAround()
    {
        _around = null;
        Apply();
        KeepInAddress();
    }

    private void Clear()
    {
        _session?.Clear();
        _shown = [];
    }

    private async Task DownloadAsync()
    {
        var text = new StringBuilder();
        foreach (var line in _shown)
        {
            text.Append(line.At.ToString("O", CultureInfo.InvariantCulture)).Append(' ').Append(line.Pod).Append(' ').AppendLine(line.Text);
        }

        string name = $"{(_target ?? "logs").Replace('/', '-')}-{Time.GetUtcNow():yyyyMMdd-HHmmss}.log";
        await JS.InvokeVoidAsync("piopsDownload", name, text.ToString());
    }

    private static string Colour(int index) => PodPalette[index % PodPalette.Length];

    private string PodColour(string pod) => _colours.TryGetValue(pod, out int i) ? Colour(i) : "#e0e0e0";

    public async ValueTask DisposeAsync()
    {
        _session?.Dispose();
        _self?.Dispose();
        if (_live is not null)
        {
            await _live.DisposeAsync();
        }
    }
}
