using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// KEDA's ScaledObject (keda.sh/v1alpha1), the fields PiOps reads and edits: the target, min and max replicas, the
/// triggers (the Redis list scaler's listLength, the CPU scaler's value) and the scale-down window. KEDA makes and
/// owns an HPA from it (status.hpaName) and overwrites edits made to that HPA, so edits go to the ScaledObject.
/// </summary>
public sealed class ScaledObject : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "keda.sh";
    public const string Version = "v1alpha1";
    public const string Plural = "scaledobjects";

    /// <summary>KEDA's default maxReplicaCount when the ScaledObject has none.</summary>
    public const int DefaultMax = 100;

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ScaledObject";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public ScaledObjectSpec? Spec { get; set; }

    [JsonPropertyName("status")]
    public ScaledObjectStatus? Status { get; set; }

    public bool Targets(string deployment) =>
        Spec?.ScaleTargetRef is { } r && r.Name == deployment && (r.Kind is null or "Deployment");

    /// <summary>The name of the HPA KEDA made for it: status.hpaName, else KEDA's naming rule.</summary>
    public string HpaName => Status?.HpaName ?? $"keda-hpa-{Metadata.Name}";

    /// <summary>As the Autoscaling page edits it. KEDA's minReplicaCount may be 0 (scale to zero); shown as it is.</summary>
    public AutoscalerSpec ToAutoscalerSpec()
    {
        var triggers = Spec?.Triggers ?? [];
        int? queue = triggers.FirstOrDefault(t => IsQueueTrigger(t.Type)) is { } redis
            ? IntOf(redis.Metadata?.GetValueOrDefault("listLength")) ?? 5
            : null;
        int? cpu = triggers.FirstOrDefault(t => t.Type == "cpu") is { } c ? IntOf(c.Metadata?.GetValueOrDefault("value")) : null;
        int window = Spec?.Advanced?["horizontalPodAutoscalerConfig"]?["behavior"]?["scaleDown"]?["stabilizationWindowSeconds"]?.GetValue<int>() ?? 300;
        return new AutoscalerSpec(true, Spec?.MinReplicaCount ?? 0, Spec?.MaxReplicaCount ?? DefaultMax, cpu, queue, window);
    }

    /// <summary>
    /// KEDA's Redis list scalers: one Redis, Sentinel, or a Redis Cluster (the chart picks the one its workers use).
    /// All three read listName and listLength; the type and its addresses are kept as they are.
    /// </summary>
    private static bool IsQueueTrigger(string? type) => type is "redis" or "redis-sentinel" or "redis-cluster";

    /// <summary>
    /// The merge patch that makes the ScaledObject follow <paramref name="spec"/>. A merge patch replaces the triggers
    /// list whole, so it is rebuilt from the existing one: other triggers and the Redis trigger's other settings (address,
    /// listName, authentication) stay; a Redis trigger is added for <paramref name="queue"/> when there was none.
    /// </summary>
    public string PatchFor(AutoscalerSpec spec, (string Address, string ListName) queue)
    {
        var triggers = new JsonArray();
        foreach (var trigger in Spec?.Triggers ?? [])
        {
            if (IsQueueTrigger(trigger.Type) || trigger.Type == "cpu")
            {
                continue;
            }

            triggers.Add(JsonNode.Parse(KubernetesJson.Serialize(trigger)));
        }

        if (spec.TargetQueueLengthPerReplica is { } length)
        {
            var existing = Spec?.Triggers?.FirstOrDefault(t => IsQueueTrigger(t.Type));
            var metadata = new JsonObject();
            foreach (var (k, v) in existing?.Metadata ?? new Dictionary<string, string> { ["address"] = queue.Address, ["listName"] = queue.ListName })
            {
                metadata[k] = v;
            }

            metadata["listLength"] = length.ToString(CultureInfo.InvariantCulture);
            var redis = existing is null ? new JsonObject() : JsonNode.Parse(KubernetesJson.Serialize(existing))!.AsObject();
            redis["type"] = existing?.Type ?? "redis";
            redis["metadata"] = metadata;
            triggers.Add(redis);
        }

        if (spec.TargetCpuPercent is { } cpu)
        {
            triggers.Add(new JsonObject
            {
                ["type"] = "cpu",
                ["metricType"] = "Utilization",
                ["metadata"] = new JsonObject { ["value"] = cpu.ToString(CultureInfo.InvariantCulture) },
            });
        }

        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["minReplicaCount"] = spec.MinReplicas,
                ["maxReplicaCount"] = spec.MaxReplicas,
                ["triggers"] = triggers,
                ["advanced"] = new JsonObject
                {
                    ["horizontalPodAutoscalerConfig"] = new JsonObject
                    {
                        ["behavior"] = new JsonObject
                        {
                            ["scaleDown"] = new JsonObject { ["stabilizationWindowSeconds"] = spec.ScaleDownStabilizationSeconds },
                        },
                    },
                },
            },
        };
        return patch.ToJsonString();
    }

    /// <summary>Ready and Active conditions as a sentence, e.g. "Ready; not active: no scaling activity (ScalerNotActive)".</summary>
    public string? Describe()
    {
        var conditions = Status?.Conditions ?? [];
        var ready = conditions.FirstOrDefault(c => c.Type == "Ready");
        var active = conditions.FirstOrDefault(c => c.Type == "Active");
        if (ready is null && active is null)
        {
            return "KEDA has not reported on it yet.";
        }

        string Part(ScaledObjectCondition? c, string yes, string no) => c is null ? ""
            : (c.Status == "True" ? yes : no) + (string.IsNullOrEmpty(c.Message) ? "" : $": {c.Message}") + (string.IsNullOrEmpty(c.Reason) ? "" : $" ({c.Reason})");
        return string.Join("; ", new[] { Part(ready, "Ready", "Not ready"), Part(active, "active", "not active") }.Where(p => p.Length > 0));
    }

    private static int? IntOf(string? s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
}

public sealed class ScaledObjectSpec
{
    [JsonPropertyName("scaleTargetRef")]
    public ScaleTarget? ScaleTargetRef { get; set; }

    [JsonPropertyName("minReplicaCount")]
    public int? MinReplicaCount { get; set; }

    [JsonPropertyName("maxReplicaCount")]
    public int? MaxReplicaCount { get; set; }

    [JsonPropertyName("pollingInterval")]
    public int? PollingInterval { get; set; }

    [JsonPropertyName("cooldownPeriod")]
    public int? CooldownPeriod { get; set; }

    [JsonPropertyName("triggers")]
    public List<ScaledObjectTrigger>? Triggers { get; set; }

    /// <summary>Kept as JSON: PiOps reads only the HPA behaviour's scale-down window from it.</summary>
    [JsonPropertyName("advanced")]
    public JsonObject? Advanced { get; set; }
}

public sealed class ScaleTarget
{
    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }
}

public sealed class ScaledObjectTrigger
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; set; }

    [JsonPropertyName("metricType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MetricType { get; set; }

    [JsonPropertyName("metadata")]
    public Dictionary<string, string>? Metadata { get; set; }

    [JsonPropertyName("authenticationRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonObject? AuthenticationRef { get; set; }
}

public sealed class ScaledObjectStatus
{
    [JsonPropertyName("hpaName")]
    public string? HpaName { get; set; }

    [JsonPropertyName("conditions")]
    public List<ScaledObjectCondition>? Conditions { get; set; }
}

public sealed class ScaledObjectCondition
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("status")]
    public string? Status { get; set; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

public sealed class ScaledObjectList : IKubernetesObject<V1ListMeta>, IItems<ScaledObject>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{ScaledObject.Group}/{ScaledObject.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ScaledObjectList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<ScaledObject> Items { get; set; } = [];

    /// <summary>A watch event's object (the client hands custom objects over as JSON) as a ScaledObject.</summary>
    public static ScaledObject From(object item) => item switch
    {
        ScaledObject s => s,
        JsonElement e => KubernetesJson.Deserialize<ScaledObject>(e.GetRawText()),
        _ => KubernetesJson.Deserialize<ScaledObject>(KubernetesJson.Serialize(item)),
    };
}
