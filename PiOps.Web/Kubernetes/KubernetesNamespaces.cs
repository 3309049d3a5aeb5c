using Microsoft.Extensions.Options;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>One namespace the dashboard operates: its cache of the cluster, the runtime over it, and the actions over that.</summary>
public sealed record OperatedNamespace(string Name, ClusterCache Cache, KubernetesRuntime Runtime, WorkloadActions Actions);

/// <summary>
/// Every namespace the dashboard operates (Kubernetes:Namespace, and Kubernetes:Namespaces when listed), each with
/// its own <see cref="ClusterCache"/> and <see cref="KubernetesRuntime"/>, made once at start. The API load is six
/// lists and watches per namespace (seven with KEDA's ScaledObjects), whatever the number of open pages; pages choose between the runtimes through
/// their <see cref="WorkloadSelection"/>.
/// </summary>
public sealed class KubernetesNamespaces : IWorkloadBackends, IPodLogSource, IHostedService, IDisposable
{
    private readonly IReadOnlyList<OperatedNamespace> _all;

    public KubernetesNamespaces(IServiceProvider services, KubernetesTarget target, IOptions<KubernetesOptions> options)
    {
        _all = options.Value.NamespacesWith(target.Namespace).Select(ns =>
        {
            var scoped = target with { Namespace = ns };
            var cache = ActivatorUtilities.CreateInstance<ClusterCache>(services, scoped);
            var runtime = ActivatorUtilities.CreateInstance<KubernetesRuntime>(services, cache, scoped);
            return new OperatedNamespace(ns, cache, runtime, ActivatorUtilities.CreateInstance<WorkloadActions>(services, runtime));
        }).ToList();
    }

    /// <summary>The default namespace: the one the UI opens in, the API and the hub act in, and Logs follow.</summary>
    public OperatedNamespace Default => _all[0];

    public IReadOnlyList<OperatedNamespace> All => _all;

    public IReadOnlyList<string> Names => [.. _all.Select(n => n.Name)];

    public IWorkloadRuntime Get(string? name) =>
        (name is null ? Default : _all.FirstOrDefault(n => n.Name == name))?.Actions
        ?? throw new ArgumentException($"The dashboard does not operate namespace \"{name}\".", nameof(name));

    /// <summary>
    /// A pod's log from its namespace's runtime, so the Logs page and the hub tail pods of whichever namespace a page
    /// shows; a pod without a namespace is the default namespace's. A namespace not operated is refused with a sentence.
    /// </summary>
    public IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, CancellationToken cancellationToken)
    {
        var operated = pod.Namespace is null ? Default : _all.FirstOrDefault(n => n.Name == pod.Namespace)
            ?? throw new LogStreamException($"The dashboard does not operate namespace \"{pod.Namespace}\", so it cannot read pod {pod.Name}'s log (Kubernetes:Namespaces).");
        return operated.Runtime.FollowAsync(pod, tailLines, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_all.SelectMany(n => new[] { n.Cache.StartAsync(cancellationToken), n.Runtime.Metrics.StartAsync(cancellationToken) }));

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_all.SelectMany(n => new[] { n.Runtime.Metrics.StopAsync(cancellationToken), n.Cache.StopAsync(cancellationToken) }));

    public void Dispose()
    {
        foreach (var n in _all)
        {
            n.Runtime.Dispose();
            n.Cache.Dispose();
        }
    }
}
