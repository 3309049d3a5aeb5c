using System.Collections.Concurrent;
using System.Globalization;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// Keeps the workers' pods annotated with <c>controller.kubernetes.io/pod-deletion-cost</c>: a pod whose worker is running
/// a task (from its heartbeat) costs more than an idle one, so when the Deployment scales down, the ReplicaSet controller
/// removes idle pods first (pkg/controller/controller_utils.go, ActivePodsWithRanks: lower cost goes first; beta and on
/// by default since 1.22). A pod is patched only when its value must change and has not already been sent, so heartbeats
/// and watch events cause no stream of patches.
/// </summary>
public sealed class PodDeletionCosts(IKubernetes client, KubernetesTarget target, ILogger log)
{
    public const string Annotation = "controller.kubernetes.io/pod-deletion-cost";

    /// <summary>The cost of a pod whose worker runs a task; an idle pod's is 0, as without the annotation.</summary>
    public const int BusyCost = 100;

    public const int IdleCost = 0;

    private readonly ConcurrentDictionary<string, int> _sent = new(StringComparer.Ordinal);
    private IReadOnlyList<(V1Pod Pod, bool Busy)>? _latest;
    private int _running;
    private bool _refusedLogged;

    /// <summary>The cost the ReplicaSet controller sees on a pod: its annotation, 0 when absent or not a number.</summary>
    public static int Of(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(Annotation, out var v) == true && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int cost) ? cost : 0;

    /// <summary>Brings the pods' annotations to what they should be; the latest call wins, one patch at a time.</summary>
    public void Keep(IReadOnlyList<(V1Pod Pod, bool Busy)> pods)
    {
        Volatile.Write(ref _latest, pods);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _latest, null) is { } pods)
            {
                await ApplyAsync(pods);
            }

            Volatile.Write(ref _running, 0);
            // A call that came in after the last look and found the loop still running.
            if (Volatile.Read(ref _latest) is null || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task ApplyAsync(IReadOnlyList<(V1Pod Pod, bool Busy)> pods)
    {
        foreach (string gone in _sent.Keys.Except(pods.Select(p => p.Pod.Metadata.Name)))
        {
            _sent.TryRemove(gone, out _);
        }

        foreach (var (pod, busy) in pods)
        {
            string name = pod.Metadata.Name;
            int wanted = busy ? BusyCost : IdleCost;
            if (pod.Metadata.DeletionTimestamp is not null || Of(pod) == wanted)
            {
                _sent.TryRemove(name, out _);
                continue;
            }

            // Sent already; the watch has not shown it yet.
            if (_sent.TryGetValue(name, out int sent) && sent == wanted)
            {
                continue;
            }

            _sent[name] = wanted;
            string patch = $"{{\"metadata\":{{\"annotations\":{{\"{Annotation}\":\"{wanted.ToString(CultureInfo.InvariantCulture)}\"}}}}}}";
            try
            {
                using var _ = await client.CoreV1.PatchNamespacedPodWithHttpMessagesAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, target.Namespace);
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
            {
                // Not tried again until the wanted value changes: a Role without "patch" on pods must not cause a storm.
                if (ex is HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.Forbidden } && _refusedLogged)
                {
                    continue;
                }

                _refusedLogged |= ex is HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.Forbidden };
                log.LogWarning("Could not set {Annotation} of pod {Pod} in {Namespace} to {Cost}: {Message}", Annotation, name, target.Namespace, wanted, ex.Message);
            }
        }
    }
}
