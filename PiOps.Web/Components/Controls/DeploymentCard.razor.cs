using System.Globalization;
using MudBlazor;
using PiOps.Web.Components.Live;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The workers' Deployment: its ready and desired replicas, scaling, and its pods with their state, usage and events.
/// </summary>
public sealed partial class DeploymentCard
{
    private LiveView<WorkloadSnapshot>? _live;

    private WorkloadSnapshot Workloads => _live?.Value ?? Runtime.Current;

    private string? _replicas;
    private string? _error;
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);

    // Kubernetes: "50 % (125m)" of the CPU request, or millicores alone without a request; the local runtime: a percentage.
    private static string CpuText(PodView pod) => pod.CpuMillicores is { } m
        ? pod.CpuRequestMillicores is > 0 ? $"{pod.CpuPercent.ToString("0", CultureInfo.InvariantCulture)} % ({m.ToString("0", CultureInfo.InvariantCulture)}m)" : $"{m.ToString("0", CultureInfo.InvariantCulture)}m"
        : $"{pod.CpuPercent.ToString("0", CultureInfo.InvariantCulture)} %";

    private void Toggle(string pod)
    {
        if (!_open.Remove(pod))
        {
            _open.Add(pod);
        }
    }

    protected override void OnInitialized()
    {
        _live = Live.Workloads(new(InvokeAsync, StateHasChanged), ages: s => s.Workers.Pods.Count > 0);
        _replicas = Workloads.Workers.Desired.ToString(CultureInfo.InvariantCulture);
    }

    private async Task ScaleAsync()
    {
        _error = null;
        if (!FormNumbers.TryWhole(_replicas, out int n))
        {
            _error = "Replicas must be a whole number, e.g. 3.";
            return;
        }

        if (await Actions.TryAsync($"scale {Workloads.Workers.Name} to {n} replica(s)", () => Runtime.ScaleAsync(n)) is { } failure)
        {
            _error = failure.Message;
            return;
        }

        Snackbar.Add($"Scaling {Workloads.Workers.Name} to {n} replica(s).", Severity.Success);
    }

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;
}
