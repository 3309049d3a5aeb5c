using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace PiOps.Web.Kubernetes;

/// <summary>What metrics-server last measured of one pod: CPU in cores and memory in bytes, summed over its containers.</summary>
public sealed record PodUsage(double CpuCores, long MemoryBytes);

/// <summary>
/// The workers' CPU and memory from metrics.k8s.io/v1beta1 PodMetrics (what `kubectl top pod` reads): one list per
/// namespace with the workers' label selector, every <see cref="KubernetesOptions.MetricsInterval"/> (metrics-server
/// measures every 15 s, so asking more often shows nothing new), whatever the number of pages. Where metrics-server is
/// not installed the group is not served (404), and <see cref="Unavailable"/> says so instead of numbers.
/// </summary>
public sealed class PodMetricsCache(
    IKubernetes client,
    KubernetesTarget target,
    Func<V1LabelSelector?> selector,
    TimeSpan interval,
    TimeProvider time,
    ILogger log,
    Func<Task> changed) : BackgroundService
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";
    public const string NoMetricsServer = "no metrics server";

    private volatile Snapshot _current = new(new Dictionary<string, PodUsage>(), "not measured yet");

    private sealed record Snapshot(IReadOnlyDictionary<string, PodUsage> Usage, string? Unavailable);

    /// <summary>The last measurement by pod name.</summary>
    public IReadOnlyDictionary<string, PodUsage> Usage => _current.Usage;

    /// <summary>Why no pod has figures ("no metrics server", a refusal, not measured yet); null when metrics are read.</summary>
    public string? Unavailable => _current.Unavailable;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // The selector comes from the workers' Deployment, known once the cache has listed it.
            if (selector() is not { } workers)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                continue;
            }

            var next = await ReadAsync(LabelSelector(workers), stoppingToken);
            var before = _current;
            _current = next;
            if (!SameAs(before, next))
            {
                await changed();
            }

            await Task.Delay(interval, time, stoppingToken);
        }
    }

    private async Task<Snapshot> ReadAsync(string labelSelector, CancellationToken ct)
    {
        try
        {
            var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<PodMetricsList>(Group, Version, target.Namespace, "pods",
                labelSelector: labelSelector, cancellationToken: ct);
            var usage = (list.Items ?? []).Where(m => m.Metadata?.Name is not null).ToDictionary(m => m.Metadata.Name, m => new PodUsage(
                (m.Containers ?? []).Sum(c => Quantity(c.Usage, "cpu")),
                (long)(m.Containers ?? []).Sum(c => Quantity(c.Usage, "memory"))));
            return new Snapshot(usage, null);
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            return new Snapshot(new Dictionary<string, PodUsage>(), NoMetricsServer);
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.Forbidden)
        {
            return new Snapshot(new Dictionary<string, PodUsage>(), "metrics not allowed (the Role needs \"list\" on \"pods\" in metrics.k8s.io)");
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or System.Text.Json.JsonException
                                       || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            // An APIService whose metrics-server is down answers 503: say so rather than show old figures as current.
            log.LogDebug(ex, "PodMetrics of {Namespace} could not be read", target.Namespace);
            string code = ex is HttpOperationException { Response: { } r } ? $" ({(int)r.StatusCode})" : "";
            return new Snapshot(new Dictionary<string, PodUsage>(), $"metrics unavailable{code}");
        }
    }

    private static double Quantity(IDictionary<string, ResourceQuantity>? values, string name) =>
        values is not null && values.TryGetValue(name, out var q) && q is not null ? (double)q.ToDecimal() : 0;

    private static bool SameAs(Snapshot a, Snapshot b) =>
        a.Unavailable == b.Unavailable && a.Usage.Count == b.Usage.Count && a.Usage.All(kv => b.Usage.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>A label selector as a query parameter, as apimachinery's LabelSelectorAsSelector prints it.</summary>
    public static string LabelSelector(V1LabelSelector selector) => Workloads.LabelSelector.Print(selector);
}
