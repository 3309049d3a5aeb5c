using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Queue;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// The overview: the queue's health and numbers at a glance, and charts of its depth and of the tasks done and failed
/// over the last two minutes.
/// </summary>
public sealed partial class Overview
{
    private TrendSeries[] _depthSeries = [];
    private TrendSeries[] _rateSeries = [];
    private string[] _labels = [];
    private string _rateUnit = "/s";
    private string _depthSummary = "";
    private string _rateSummary = "";

    private string DrainText => Snapshot.Depth == 0 ? "empty" : Snapshot.DrainEstimate is { } d ? Format.Duration(d) : "not draining";

    protected override void OnInitialized()
    {
        _live = Live.Queue(new(InvokeAsync, StateHasChanged), _ => BuildCharts());
        BuildCharts();
    }

    private LiveView<QueueSnapshot>? _live;

    private QueueSnapshot Snapshot => _live?.Value ?? QueueSnapshot.Empty;

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;

    private void BuildCharts()
    {
        // At most 120 points: the last two minutes at one a second keep the SVG small.
        var points = Snapshot.History.TakeLast(120).ToList();
        _labels = points.Select((p, i) => i % 30 == 0 ? Zone.Clock(p.At) : "").ToArray();
        double[] waiting = points.Select(p => (double)p.Depth).ToArray();
        double[] inFlight = points.Select(p => (double)p.InFlight).ToArray();
        _depthSeries = [new("waiting", waiting), new("in flight", inFlight)];
        _depthSummary = ChartAxis.Summary([("waiting", waiting), ("in flight", inFlight)]);
        double maxRate = points.Count == 0 ? 0 : points.Max(p => Math.Max(p.DonePerSecond, p.FailedPerSecond));
        (double factor, _rateUnit) = ChartAxis.RateUnit(maxRate);
        double[] done = points.Select(p => Math.Round(p.DonePerSecond * factor, 2)).ToArray();
        double[] failed = points.Select(p => Math.Round(p.FailedPerSecond * factor, 2)).ToArray();
        _rateSeries = [new("done" + _rateUnit, done), new("failed" + _rateUnit, failed)];
        _rateSummary = ChartAxis.Summary([("done" + _rateUnit, done), ("failed" + _rateUnit, failed)]);
    }
}
