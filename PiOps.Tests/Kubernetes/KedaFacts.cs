using System.Text.Json.Nodes;
using PiOps.Web;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// KEDA's ScaledObject, where its CRD exists: shown as the workers' autoscaler, edited in its place (KEDA would undo
/// edits of the HPA it owns), and nothing said at all where KEDA is not installed.
/// </summary>
public sealed class KedaFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static JsonObject ScaledObject(string uid) => new()
    {
        ["apiVersion"] = "keda.sh/v1alpha1",
        ["kind"] = "ScaledObject",
        ["metadata"] = new JsonObject { ["name"] = "pi-worker", ["uid"] = uid },
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["name"] = "pi-worker" },
            ["minReplicaCount"] = 0,
            ["maxReplicaCount"] = 8,
            ["triggers"] = new JsonArray(new JsonObject
            {
                ["type"] = "redis",
                ["metadata"] = new JsonObject { ["address"] = "redis:6379", ["listName"] = "queue:task", ["listLength"] = "20", ["databaseIndex"] = "0" },
                ["authenticationRef"] = new JsonObject { ["name"] = "redis-auth" },
            }),
        },
        ["status"] = new JsonObject
        {
            ["hpaName"] = "keda-hpa-pi-worker",
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "ScaledObjectReady", ["message"] = "ScaledObject is defined correctly and is ready for scaling" },
                new JsonObject { ["type"] = "Active", ["status"] = "True", ["reason"] = "ScalerActive", ["message"] = "Scaling is performed because triggers are active" }),
        },
    };

    // The HPA KEDA makes from it, owned by it.
    private static JsonObject KedaHpa(string ownerUid) => new()
    {
        ["apiVersion"] = "autoscaling/v2",
        ["kind"] = "HorizontalPodAutoscaler",
        ["metadata"] = new JsonObject
        {
            ["name"] = "keda-hpa-pi-worker",
            ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "keda.sh/v1alpha1", ["kind"] = "ScaledObject", ["name"] = "pi-worker", ["uid"] = ownerUid, ["controller"] = true }),
        },
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = "pi-worker" },
            ["minReplicas"] = 1,
            ["maxReplicas"] = 8,
            ["metrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "External",
                ["external"] = new JsonObject
                {
                    ["metric"] = new JsonObject { ["name"] = "s0-redis-queue-task" },
                    ["target"] = new JsonObject { ["type"] = "AverageValue", ["averageValue"] = "20" },
                },
            }),
        },
        ["status"] = new JsonObject { ["currentReplicas"] = 2, ["desiredReplicas"] = 3 },
    };

    private static async Task<KubeApiDouble> WithKedaAsync()
    {
        var api = await KubeApiDouble.StartAsync();
        api.KedaInstalled = true;
        string uid = Guid.NewGuid().ToString();
        api.Seed("scaledobjects", ScaledObject(uid));
        api.Seed("horizontalpodautoscalers", KedaHpa(uid));
        return api;
    }

    [Fact]
    public async Task WithoutKeda_TheCacheSyncs_WithNoError_AndTheHpaIsTheAutoscaler()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);

        Assert.True(cluster.Cache.State.Synced);
        Assert.Null(cluster.Cache.State.Error);
        Assert.Empty(cluster.Cache.ScaledObjects.Items);
        Assert.Equal(1, cluster.Api.Requests("list scaledobjects"));
        await cluster.Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = true });
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler is not null, Wait, "the HPA");
        Assert.Equal("HorizontalPodAutoscaler", cluster.Runtime.Current.Autoscaler!.Kind);
    }

    [Fact]
    public async Task AScaledObject_IsTheAutoscaler_WithItsHpasLiveState()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server, api: await WithKedaAsync());

        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler is { Kind: "KEDA ScaledObject pi-worker" }, Wait,
            () => $"the ScaledObject as the autoscaler ({cluster.Runtime.Current.Autoscaler?.Kind})");
        var view = cluster.Runtime.Current.Autoscaler!;
        Assert.Equal(new AutoscalerSpec(true, 0, 8, null, 20, 300), view.Spec);
        Assert.Equal(2, view.CurrentReplicas);
        Assert.Equal(3, view.DesiredReplicas);
        Assert.Contains("Ready: ScaledObject is defined correctly", view.Status);
        Assert.Contains("changes here go to the ScaledObject", view.Status);
        Assert.Null(cluster.Cache.State.Error);

        var refused = await Assert.ThrowsAsync<OperatorActionException>(() => cluster.Runtime.ScaleAsync(5));
        Assert.Contains("KEDA's ScaledObject pi-worker sets the replicas (0 to 8)", refused.Message);
    }

    [Fact]
    public async Task Edits_KeepASentinelTrigger_AndAddNoSecondRedisTrigger()
    {
        // The chart's trigger with Sentinels (charts/piops/templates/worker.yaml): KEDA's redis-sentinel scaler.
        var api = await WithKedaAsync();
        api.Mutate("scaledobjects", "pi-worker", o => o["spec"]!["triggers"] = new JsonArray(new JsonObject
        {
            ["type"] = "redis-sentinel",
            ["metadata"] = new JsonObject { ["addresses"] = "sentinel-0:26379,sentinel-1:26379", ["sentinelMaster"] = "mymaster", ["listName"] = "queue:task", ["listLength"] = "20" },
        }));
        await using var cluster = await ClusterDashboard.StartAsync(server, api: api);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler?.Spec.TargetQueueLengthPerReplica == 20, Wait, "the Sentinel trigger's listLength");

        await cluster.Runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 1, 12, null, 40, 120));

        var trigger = Assert.Single(cluster.Api.Get("scaledobjects", "pi-worker")!["spec"]!["triggers"]!.AsArray())!;
        Assert.Equal("redis-sentinel", trigger["type"]!.GetValue<string>());
        Assert.Equal("40", trigger["metadata"]!["listLength"]!.GetValue<string>());
        Assert.Equal("mymaster", trigger["metadata"]!["sentinelMaster"]!.GetValue<string>());
        Assert.Null(trigger["metadata"]!["address"]);
    }

    [Fact]
    public async Task Edits_GoToTheScaledObject_KeepingTheTriggersOtherSettings_AndTheHpaIsLeftToKeda()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server, api: await WithKedaAsync());
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler?.Kind.StartsWith("KEDA") == true, Wait, "the ScaledObject");
        string hpaVersion = cluster.Api.Versions("horizontalpodautoscalers")["keda-hpa-pi-worker"];

        await cluster.Runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 1, 12, 50, 40, 120));

        var spec = cluster.Api.Get("scaledobjects", "pi-worker")!["spec"]!;
        Assert.Equal(1, spec["minReplicaCount"]!.GetValue<int>());
        Assert.Equal(12, spec["maxReplicaCount"]!.GetValue<int>());
        var redis = spec["triggers"]!.AsArray().Single(t => t!["type"]!.GetValue<string>() == "redis")!;
        Assert.Equal("40", redis["metadata"]!["listLength"]!.GetValue<string>());
        Assert.Equal("redis:6379", redis["metadata"]!["address"]!.GetValue<string>());
        Assert.Equal("redis-auth", redis["authenticationRef"]!["name"]!.GetValue<string>());
        Assert.Equal("50", spec["triggers"]!.AsArray().Single(t => t!["type"]!.GetValue<string>() == "cpu")!["metadata"]!["value"]!.GetValue<string>());
        Assert.Equal(120, spec["advanced"]!["horizontalPodAutoscalerConfig"]!["behavior"]!["scaleDown"]!["stabilizationWindowSeconds"]!.GetValue<int>());
        Assert.Equal(hpaVersion, cluster.Api.Versions("horizontalpodautoscalers")["keda-hpa-pi-worker"]);
        Assert.Equal(0, cluster.Api.Requests("patch horizontalpodautoscalers"));
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler?.Spec.MaxReplicas == 12, Wait, "the edit seen through the watch");

        var bad = await Assert.ThrowsAsync<OperatorActionException>(() => cluster.Runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 5, 2, null, 10, 300)));
        Assert.Contains("Max replicas must be from min replicas (5)", bad.Message);

        // Off: the ScaledObject goes, and with it (its owner) the HPA KEDA made.
        await cluster.Runtime.SetAutoscalerAsync(AutoscalerSpec.Book);
        Assert.Null(cluster.Api.Get("scaledobjects", "pi-worker"));
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Autoscaler is null, Wait, "no autoscaler left");
    }
}
