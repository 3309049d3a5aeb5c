using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// What kubectl asks before it acts: /version, /api, /apis and the resource list of each group/version the double
/// serves, in the API server's legacy discovery shape (kubectl falls back to it when the server does not answer the
/// aggregated apidiscovery.k8s.io/v2 media type). Each request's body is recorded, so a test can compare what PiOps sends
/// with what kubectl sends for the same command.
/// </summary>
public sealed partial class KubeApiDouble
{
    private readonly ConcurrentQueue<RecordedRequest> _recorded = new();

    /// <summary>
    /// kubectl, the oracle, acts as a cluster admin (system:masters), so it may read what the dashboard's Role does not
    /// (a Deployment, a pod). Over plain HTTP client-go sends no credentials, so the double knows it by its User-Agent.
    /// </summary>
    private static bool IsKubectl(HttpContext ctx) => ctx.Request.Headers.UserAgent.ToString().StartsWith("kubectl/", StringComparison.Ordinal);

    /// <summary>A request as the double received it: method, path, query string, content type, body and user agent.</summary>
    public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string Body, string UserAgent)
    {
        public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
    }

    /// <summary>Every request so far (discovery included), oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Recorded => [.. _recorded];

    /// <summary>Forgets the recorded requests, to look at one command's alone.</summary>
    public void ClearRecorded() => _recorded.Clear();

    private async Task HandleRecordedAsync(HttpContext ctx)
    {
        string body = "";
        if (ctx.Request.Method is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            ctx.Request.EnableBuffering();
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8, leaveOpen: true);
            body = await reader.ReadToEndAsync();
            ctx.Request.Body.Position = 0;
        }

        _recorded.Enqueue(new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "",
            ctx.Request.ContentType, body, ctx.Request.Headers.UserAgent.ToString()));
        if (ctx.Request.ContentType?.StartsWith("application/vnd.kubernetes.protobuf", StringComparison.Ordinal) == true)
        {
            // The API server takes protobuf for built-in kinds (kubectl's typed commands, e.g. create job, send it); the
            // double reads JSON only. docs/kubernetes.md says so.
            await WriteStatus(ctx, 415, "UnsupportedMediaType", $"the API double reads JSON bodies only, not {ctx.Request.ContentType}");
            return;
        }

        if (Discovery(ctx.Request.Path.Value ?? "") is { } document && ctx.Request.Method == "GET")
        {
            await WriteJson(ctx, 200, document);
            return;
        }

        await HandleAsync(ctx);
    }

    private JsonNode? Discovery(string path) => path.TrimEnd('/') switch
    {
        // k8s.io/apimachinery/pkg/version/types.go (Info).
        "/version" => new JsonObject
        {
            ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0", ["gitCommit"] = "", ["gitTreeState"] = "clean",
            ["buildDate"] = "2024-12-11T00:00:00Z", ["goVersion"] = "go1.23.4", ["compiler"] = "gc", ["platform"] = "linux/amd64",
        },
        // api/discovery/api.json in kubernetes/kubernetes.
        "/api" => new JsonObject
        {
            ["kind"] = "APIVersions",
            ["versions"] = new JsonArray("v1"),
            ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = new Uri(Address).Authority }),
        },
        // api/discovery/apis.json: the groups this double serves, each with its preferred version.
        "/apis" => new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray([.. Groups().Select(g => (JsonNode)Group(g.Name, g.Version))]),
        },
        "/apis/apps" => Group("apps", "v1"),
        "/apis/batch" => Group("batch", "v1"),
        "/apis/autoscaling" => Group("autoscaling", "v2"),
        "/apis/keda.sh" when KedaInstalled => Group("keda.sh", "v1alpha1"),
        "/apis/metrics.k8s.io" when MetricsServer => Group("metrics.k8s.io", "v1beta1"),
        // metrics-server's APIService (sigs.k8s.io/metrics-server pkg/api/install.go): nodes and pods, get and list.
        "/apis/metrics.k8s.io/v1beta1" when MetricsServer => ResourceList("metrics.k8s.io/v1beta1",
            Resource("pods", "PodMetrics", "", [], [], ["get", "list"])),
        // api/discovery/api__v1.json (pods, pods/log, pods/status, events).
        "/api/v1" => ResourceList("v1",
            Resource("pods", "Pod", "pod", ["po"], ["all"], AllVerbs),
            Resource("pods/log", "Pod", "", [], [], ["get"]),
            Resource("pods/status", "Pod", "", [], [], ["get", "patch", "update"]),
            Resource("events", "Event", "event", ["ev"], [], AllVerbs)),
        // api/discovery/apis__apps__v1.json (deployments and the autoscaling/v1 Scale subresource).
        "/apis/apps/v1" => ResourceList("apps/v1",
            Resource("deployments", "Deployment", "deployment", ["deploy"], ["all"], AllVerbs),
            Subresource("deployments/scale", "autoscaling", "v1", "Scale"),
            Resource("deployments/status", "Deployment", "", [], [], ["get", "patch", "update"])),
        // api/discovery/apis__batch__v1.json.
        "/apis/batch/v1" => ResourceList("batch/v1",
            Resource("cronjobs", "CronJob", "cronjob", ["cj"], ["all"], AllVerbs),
            Resource("cronjobs/status", "CronJob", "", [], [], ["get", "patch", "update"]),
            Resource("jobs", "Job", "job", [], ["all"], AllVerbs),
            Resource("jobs/status", "Job", "", [], [], ["get", "patch", "update"])),
        // api/discovery/apis__autoscaling__v2.json.
        "/apis/autoscaling/v2" => ResourceList("autoscaling/v2",
            Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", "horizontalpodautoscaler", ["hpa"], ["all", "podautoscalers"], AllVerbs),
            Resource("horizontalpodautoscalers/status", "HorizontalPodAutoscaler", "", [], [], ["get", "patch", "update"])),
        "/apis/keda.sh/v1alpha1" when KedaInstalled => ResourceList("keda.sh/v1alpha1",
            Resource("scaledobjects", "ScaledObject", "scaledobject", ["so"], [], AllVerbs)),
        _ => null,
    };

    private static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    private IEnumerable<(string Name, string Version)> Groups()
    {
        yield return ("apps", "v1");
        yield return ("batch", "v1");
        yield return ("autoscaling", "v2");
        if (KedaInstalled)
        {
            yield return ("keda.sh", "v1alpha1");
        }

        if (MetricsServer)
        {
            yield return ("metrics.k8s.io", "v1beta1");
        }
    }

    private static JsonObject Group(string name, string version) => new()
    {
        ["kind"] = "APIGroup",
        ["apiVersion"] = "v1",
        ["name"] = name,
        ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version }),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version },
    };

    private static JsonObject ResourceList(string groupVersion, params JsonObject[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray([.. resources]),
    };

    private static JsonObject Resource(string name, string kind, string singular, string[] shortNames, string[] categories, string[] verbs)
    {
        var r = new JsonObject
        {
            ["name"] = name, ["singularName"] = singular, ["namespaced"] = true, ["kind"] = kind,
            ["verbs"] = new JsonArray([.. verbs.Select(v => (JsonNode)v)]),
        };
        if (shortNames.Length > 0)
        {
            r["shortNames"] = new JsonArray([.. shortNames.Select(s => (JsonNode)s)]);
        }

        if (categories.Length > 0)
        {
            r["categories"] = new JsonArray([.. categories.Select(c => (JsonNode)c)]);
        }

        return r;
    }

    private static JsonObject Subresource(string name, string group, string version, string kind) => new()
    {
        ["name"] = name, ["singularName"] = "", ["namespaced"] = true, ["group"] = group, ["version"] = version, ["kind"] = kind,
        ["verbs"] = new JsonArray("get", "patch", "update"),
    };
}
