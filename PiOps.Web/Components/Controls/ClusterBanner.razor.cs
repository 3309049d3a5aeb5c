using PiOps.Web.Components.Live;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The cluster's counterpart of the Redis banner: shown while the API cannot be read in the namespace this page works
/// in; the cache recovers by itself.
/// </summary>
public sealed partial class ClusterBanner
{
    private LiveView<Shown>? _live;

    /// <summary>The cluster's state as the banner shows it; no state where the workloads do not run on a cluster.</summary>
    private sealed record Shown(ClusterState? State);

    protected override void OnInitialized()
    {
        // The selection's backend, not the guarded runtime the pages get: only the backend knows the cluster's state.
        _live = new LiveView<Shown>(new(Current, Follow), (shown, next) => shown.State?.Error == next.State?.Error && shown.State?.Namespace == next.State?.Namespace,
            TimeSpan.FromMilliseconds(100), Time, new(InvokeAsync, StateHasChanged), Announce);
        _down = _live.Value.State?.Error is not null;
    }

    private static KubernetesRuntime? Cluster(IWorkloadRuntime backend) => (backend as WorkloadActions)?.Backend as KubernetesRuntime;

    private Shown Current() => new(Cluster(Selection.Backend)?.State);

    // Said once when the cluster stops answering and once when it answers again, not at every new error text.
    private void Announce(Shown next)
    {
        bool down = next.State?.Error is not null;
        if (next.State is { } state && down != _down)
        {
            Announcer.Say(down ? $"The cluster is unreachable: {state.Error} The dashboard keeps retrying"
                : $"The cluster answers again (namespace {state.Namespace})");
        }

        _down = down;
    }

    private bool _down;

    /// <summary>The selected namespace's cluster state, following a switch of namespace.</summary>
    private IDisposable Follow(Func<Shown, Task> handler) => Selection.Follow(
        backend => Cluster(backend) is { } cluster ? cluster.Subscribe(_ => handler(new(cluster.State))) : null,
        backend => handler(new(Cluster(backend)?.State)));

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;
}
