using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// metrics-server's PodMetrics (metrics.k8s.io/v1beta1), present or absent. The shape is k8s.io/metrics
/// pkg/apis/metrics/v1beta1/types.go (PodMetrics: metadata, timestamp, window, containers[].name and .usage, a
/// ResourceList), filled as sigs.k8s.io/metrics-server pkg/api/pod.go fills it (the pod's name, namespace and labels, a
/// 15 s window, CPU as nanocores and memory in Ki as its scraper reports them). Without metrics-server the API server has
/// no APIService for the group, so its paths are 404 like any unknown path.
/// </summary>
public sealed partial class KubeApiDouble
{
    private const string MetricsGroup = "metrics.k8s.io";

    private readonly ConcurrentDictionary<string, (string Cpu, string Memory)> _usage = new();

    private readonly ConcurrentDictionary<string, int> _metricsRequests = new();

    /// <summary>
    /// PodMetrics requests so far by verb ("list", "get"), counted apart from <see cref="Requests"/>: they are a poll on a
    /// timer, not the cache's lists and watches whose numbers other tests bound.
    /// </summary>
    public int MetricsRequests(string verb) => _metricsRequests.GetValueOrDefault(verb);

    /// <summary>Whether metrics-server is installed (its APIService registered); off by default, as on a bare cluster.</summary>
    public bool MetricsServer { get; set; }

    /// <summary>What a pod without <see cref="SetPodUsage"/> uses: 125 millicores and 100 MiB.</summary>
    public (string Cpu, string Memory) DefaultUsage { get; set; } = ("125000000n", "102400Ki");

    /// <summary>The usage metrics-server reports for a pod's first container (its others use nothing).</summary>
    public void SetPodUsage(string pod, string cpu, string memory) => _usage[pod] = (cpu, memory);

    private async Task PodMetricsAsync(HttpContext ctx, ApiPath path)
    {
        string verb = ctx.Request.Method != "GET" ? "unknown" : path.Name is null ? "list" : "get";
        _metricsRequests.AddOrUpdate(verb, 1, (_, n) => n + 1);
        if (!MetricsServer || path.Version != "v1beta1" || path.Plural != "pods" || path.Sub is not null)
        {
            await WriteStatus(ctx, 404, "NotFound", "the server could not find the requested resource");
            return;
        }

        if ((!ServiceAccountMay(MetricsGroup, "pods", verb, path.Namespace, path.Name) && !IsKubectl(ctx)) || _forbidden.ContainsKey($"{verb} pods.{MetricsGroup}"))
        {
            // apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage).
            await WriteStatus(ctx, 403, "Forbidden",
                $"pods.{MetricsGroup} is forbidden: User \"{ServiceAccount}\" cannot {verb} resource \"pods\" in API group \"{MetricsGroup}\" in the namespace \"{path.Namespace}\"",
                new JsonObject { ["group"] = MetricsGroup, ["kind"] = "pods" });
            return;
        }

        var selector = Selector.Parse(ctx.Request.Query["labelSelector"]);
        List<JsonNode> items;
        lock (_gate)
        {
            items = InNamespace("pods", path.Namespace)
                .Where(p => p["status"]?["phase"]?.GetValue<string>() == "Running" && (path.Name is null ? selector.Matches(p) : Name(p) == path.Name))
                .OrderBy(Name, StringComparer.Ordinal).Select(PodMetricsOf).ToList();
        }

        if (path.Name is not null)
        {
            await (items.Count == 0
                ? WriteStatus(ctx, 404, "NotFound", $"podmetrics.{MetricsGroup} \"{path.Name}\" not found")
                : WriteJson(ctx, 200, items[0]));
            return;
        }

        await WriteJson(ctx, 200, new JsonObject
        {
            ["kind"] = "PodMetricsList",
            ["apiVersion"] = $"{MetricsGroup}/v1beta1",
            ["metadata"] = new JsonObject(),
            ["items"] = new JsonArray([.. items]),
        });
    }

    private JsonNode PodMetricsOf(JsonObject pod)
    {
        var (cpu, memory) = _usage.GetValueOrDefault(Name(pod), DefaultUsage);
        var containers = pod["spec"]?["containers"]?.AsArray() ?? [];
        string now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["kind"] = "PodMetrics",
            ["apiVersion"] = $"{MetricsGroup}/v1beta1",
            ["metadata"] = new JsonObject
            {
                ["name"] = Name(pod), ["namespace"] = Ns(pod), ["creationTimestamp"] = now,
                ["labels"] = pod["metadata"]?["labels"]?.DeepClone(),
            },
            ["timestamp"] = now,
            ["window"] = "15s",
            ["containers"] = new JsonArray([.. containers.Select((c, i) => (JsonNode)new JsonObject
            {
                ["name"] = c!["name"]!.DeepClone(),
                ["usage"] = new JsonObject { ["cpu"] = i == 0 ? cpu : "0", ["memory"] = i == 0 ? memory : "0" },
            })]),
        };
    }
}
