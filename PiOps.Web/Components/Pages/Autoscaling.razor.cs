using System.Globalization;
using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Pages;

/// <summary>The workers' autoscaler: its state, a chart of replicas against queue depth, and its settings.</summary>
public sealed partial class Autoscaling
{
    private LiveView<WorkloadSnapshot>? _live;

    private WorkloadSnapshot Workloads => _live?.Value ?? Runtime.Current;

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;

    private LineChartOptions _replicaOptions = ChartAxis.Options(1);
    private LineChartOptions _depthOptions = ChartAxis.Options(0);
    private List<ChartSeries<double>> _replicaSeries = [];
    private List<ChartSeries<double>> _depthSeries = [];
    private string[] _labels = [];
    private string _replicaSummary = "";
    private string _depthSummary = "";
    private bool _enabled;
    private string? _min;
    private string? _max;
    private string? _cpu;
    private string? _queue;
    private string? _window;
    private List<string> _errors = [];
    // The version of the autoscaler the form was filled from, sent with the save; and whether a save was refused as stale.
    private string? _resourceVersion;
    private bool _stale;
    // What was last saved: once the snapshot shows it, the form takes its new version, so a further save is not stale.
    private AutoscalerSpec? _saved;
    // The autoscaler's spec when the form was filled: a newer version with this spec moved only in its status.
    private AutoscalerSpec? _openedOn;

    protected override void OnInitialized()
    {
        _live = Live.Workloads(new(InvokeAsync, StateHasChanged), _ => OnWorkloadsChanged(), ages: s => s.Autoscaler is not null, history: true);
        Reload();
        BuildCharts();
    }

    private void OnWorkloadsChanged()
    {
        if (_saved is not null && Workloads.Autoscaler is { } now && now.Spec == _saved)
        {
            _resourceVersion = now.ResourceVersion;
            _openedOn = now.Spec;
            _saved = null;
        }

        BuildCharts();
    }

    /// <summary>The form from the autoscaler as it is now (also after a save refused as stale).</summary>
    private void Reload()
    {
        Fill(Workloads.Autoscaler?.Spec ?? AutoscalerSpec.Book);
        _resourceVersion = Workloads.Autoscaler?.ResourceVersion;
        _openedOn = Workloads.Autoscaler?.Spec;
        _errors = [];
        _stale = false;
    }

    private void Fill(AutoscalerSpec spec)
    {
        _enabled = spec.Enabled;
        _min = spec.MinReplicas.ToString(CultureInfo.InvariantCulture);
        _max = spec.MaxReplicas.ToString(CultureInfo.InvariantCulture);
        _cpu = spec.TargetCpuPercent?.ToString(CultureInfo.InvariantCulture) ?? "";
        _queue = spec.TargetQueueLengthPerReplica?.ToString(CultureInfo.InvariantCulture) ?? "";
        _window = spec.ScaleDownStabilizationSeconds.ToString(CultureInfo.InvariantCulture);
    }

    private void BuildCharts()
    {
        // The last 5 minutes at most (one point a second), so the SVG stays small.
        var points = (Workloads.Autoscaler?.History ?? []).TakeLast(300).ToList();
        int every = Math.Max(1, points.Count / 5);
        _labels = points.Select((p, i) => i % every == 0 ? Zone.Clock(p.At) : "").ToArray();
        double[] replicas = points.Select(p => (double)p.Replicas).ToArray();
        double[] desired = points.Select(p => (double)p.Desired).ToArray();
        double[] waiting = points.Select(p => (double)p.QueueDepth).ToArray();
        _replicaSeries =
        [
            new ChartSeries<double> { Name = "replicas", Data = new(replicas) },
            new ChartSeries<double> { Name = "desired", Data = new(desired) },
        ];
        _depthSeries = [new ChartSeries<double> { Name = "waiting", Data = new(waiting) }];
        _replicaSummary = ChartAxis.Summary([("replicas", replicas), ("desired", desired)]);
        _depthSummary = ChartAxis.Summary([("waiting", waiting)]);
        // The replicas axis runs to the autoscaler's maximum, not to an arbitrary 20.
        int maxReplicas = Math.Max(Workloads.Autoscaler?.Spec.MaxReplicas ?? 1, points.Count == 0 ? 1 : points.Max(p => Math.Max(p.Replicas, p.Desired)));
        _replicaOptions = ChartAxis.Options(maxReplicas);
        _depthOptions = ChartAxis.Options(points.Count == 0 ? 0 : points.Max(p => p.QueueDepth));
    }

    private string Kubectl
    {
        get
        {
            string deployment = Workloads.Workers.Name;
            if (!_enabled)
            {
                return $"kubectl delete hpa {deployment}";
            }

            string cpu = string.IsNullOrWhiteSpace(_cpu) ? "" : $" --cpu-percent={_cpu.Trim()}";
            string line = $"kubectl autoscale deployment {deployment}{cpu} --min={_min} --max={_max}";
            return string.IsNullOrWhiteSpace(_queue) ? line : line + $"  (plus an external metric of {_queue.Trim()} tasks per replica, as KEDA's Redis list scaler)";
        }
    }

    private AutoscalerSpec? Build(List<string> errors)
    {
        var numbers = new FormNumbers(errors);
        var spec = new AutoscalerSpec(_enabled, numbers.Whole(_min, "Min replicas") ?? 0, numbers.Whole(_max, "Max replicas") ?? 0,
            numbers.Whole(_cpu, "The CPU target", optional: true), numbers.Whole(_queue, "The queue length per replica", optional: true),
            numbers.Whole(_window, "The scale-down window") ?? 0) { ResourceVersion = _resourceVersion };
        return errors.Count == 0 ? spec : null;
    }

    private async Task SaveAsync()
    {
        var errors = new List<string>();
        var spec = Build(errors);
        _errors = errors;
        if (spec is null)
        {
            return;
        }

        if (await Actions.TryAsync("save the autoscaler", () => Runtime.SetAutoscalerAsync(spec, _openedOn)) is { } failure)
        {
            _errors = [failure.Message];
            _stale = failure.Stale;
            return;
        }

        _saved = spec with { ResourceVersion = null };
        Snackbar.Add(spec.Enabled ? $"Autoscaler on: {spec.MinReplicas} to {spec.MaxReplicas} replicas." : "Autoscaler off: the workers keep their replicas.",
            Severity.Success);
    }
}
