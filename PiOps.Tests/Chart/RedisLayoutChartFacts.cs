using k8s;
using k8s.Models;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace PiOps.Tests.Chart;

/// <summary>
/// The Redis layouts of the chart: an external Redis behind Sentinel, a Redis Cluster, TLS with a CA from a Secret, and
/// the in-chart Redis with replicas and Sentinel. Every pod that talks to Redis (workers, dashboard, the Job templates,
/// the CronJob) must get the same variables, and KEDA the matching scaler.
/// </summary>
public class RedisLayoutChartFacts
{
    private const string Keda = "worker:\n  keda: { enabled: true, skipCrdCheck: true }\naddwork:\n  cronJob: { enabled: true }\n";

    /// <summary>Each container that talks to Redis, by where it comes from, with its pod's volumes.</summary>
    private static List<(string Where, V1Container Container, IList<V1Volume> Volumes)> RedisClients(List<IKubernetesObject> objects)
    {
        var found = new List<(string, V1Container, IList<V1Volume>)>();
        foreach (var d in objects.OfType<V1Deployment>())
        {
            found.Add((d.Metadata.Name, d.Spec.Template.Spec.Containers.Single(), d.Spec.Template.Spec.Volumes));
        }

        foreach (var c in objects.OfType<V1CronJob>())
        {
            var pod = c.Spec.JobTemplate.Spec.Template.Spec;
            found.Add((c.Metadata.Name, pod.Containers.Single(), pod.Volumes));
        }

        var templates = objects.OfType<V1ConfigMap>().Single(c => c.Metadata.Name.EndsWith("-templates", StringComparison.Ordinal));
        foreach (var (key, yaml) in templates.Data)
        {
            var pod = key.StartsWith("cronjob", StringComparison.Ordinal)
                ? KubernetesYaml.Deserialize<V1CronJob>(yaml, strict: true).Spec.JobTemplate.Spec.Template.Spec
                : KubernetesYaml.Deserialize<V1Job>(yaml, strict: true).Spec.Template.Spec;
            found.Add((key, pod.Containers.Single(), pod.Volumes));
        }

        Assert.Equal(7, found.Count); // worker, dashboard, the CronJob, and the ConfigMap's three Jobs and CronJob
        return found;
    }

    private static string? Env(V1Container c, string name) => c.Env.SingleOrDefault(e => e.Name == name)?.Value;

    private static YamlMappingNode Trigger(string rendered) =>
        (YamlMappingNode)((YamlSequenceNode)HelmChart.CustomObjects(rendered, "keda.sh/")
            .Single(o => Scalar(o, "kind") == "ScaledObject")["spec"]["triggers"]).Children.Single();

    private static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var p in path)
        {
            node = ((YamlMappingNode)node)[p];
        }

        return ((YamlScalarNode)node).Value!;
    }

    private static bool Has(YamlNode node, string key) => ((YamlMappingNode)node).Children.ContainsKey(key);

    [Fact]
    public void ExternalSentinel_PointsEveryPodAndKedaAtTheSentinels()
    {
        string rendered = HelmChart.RenderWithValues(Keda + """
            redis:
              deploy: false
              external:
                sentinel:
                  service: mymaster
                  addresses: [redis-node-0.redis-headless:26379, redis-node-1.redis-headless:26379]
                passwordSecret: { name: redis-auth, key: redis-password }
            """);
        var objects = HelmChart.Objects(rendered);

        foreach (var (where, c, _) in RedisClients(objects))
        {
            Assert.True("redis-node-0.redis-headless:26379,redis-node-1.redis-headless:26379" == Env(c, "REDIS_SENTINELS"), where);
            Assert.Equal("mymaster", Env(c, "REDIS_SENTINEL_SERVICE"));
            Assert.DoesNotContain(c.Env, e => e.Name is "REDIS_HOST" or "REDIS_PORT" or "REDIS_TLS");
            Assert.Equal("redis-auth", c.Env.Single(e => e.Name == "REDIS_PASSWORD").ValueFrom.SecretKeyRef.Name);
        }

        Assert.Empty(objects.OfType<V1StatefulSet>());
        // No single host to give the Jobs made on the Jobs page.
        var dashboard = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-dashboard", StringComparison.Ordinal));
        Assert.DoesNotContain(dashboard.Spec.Template.Spec.Containers[0].Env, e => e.Name == "Kubernetes__RedisHost");

        var trigger = Trigger(rendered);
        Assert.Equal("redis-sentinel", Scalar(trigger, "type"));
        Assert.Equal("redis-node-0.redis-headless:26379,redis-node-1.redis-headless:26379", Scalar(trigger, "metadata", "addresses"));
        Assert.Equal("mymaster", Scalar(trigger, "metadata", "sentinelMaster"));
        Assert.Equal("REDIS_PASSWORD", Scalar(trigger, "metadata", "passwordFromEnv"));
    }

    [Fact]
    public void ExternalCluster_GivesItsNodesAsSeeds_AndKedaTheClusterScaler()
    {
        string rendered = HelmChart.RenderWithValues(Keda + """
            redis:
              deploy: false
              external:
                port: 7000
                cluster:
                  nodes: [node-0.redis:6380, node-1.redis]
                username: piops
            """);

        foreach (var (where, c, _) in RedisClients(HelmChart.Objects(rendered)))
        {
            Assert.True("node-0.redis:6380,node-1.redis" == Env(c, "REDIS_HOST"), where);
            Assert.Equal("7000", Env(c, "REDIS_PORT"));
            Assert.Equal("piops", Env(c, "REDIS_USERNAME"));
            Assert.Null(Env(c, "REDIS_SENTINELS"));
        }

        var trigger = Trigger(rendered);
        Assert.Equal("redis-cluster", Scalar(trigger, "type"));
        Assert.Equal("node-0.redis:6380,node-1.redis:7000", Scalar(trigger, "metadata", "addresses"));
        Assert.Equal("REDIS_USERNAME", Scalar(trigger, "metadata", "usernameFromEnv"));
        Assert.False(Has(trigger["metadata"], "passwordFromEnv"));
    }

    [Fact]
    public void TlsWithACaSecret_MountsTheCaIntoEveryPodThatTalksToRedis_AndGivesItToKeda()
    {
        string rendered = HelmChart.RenderWithValues(Keda + """
            redis:
              deploy: false
              external:
                host: redis.example.com
                port: 6380
                tls:
                  enabled: true
                  caSecret: { name: redis-ca, key: ca.pem }
            """);

        foreach (var (where, c, volumes) in RedisClients(HelmChart.Objects(rendered)))
        {
            Assert.True("true" == Env(c, "REDIS_TLS"), where);
            Assert.Equal("/etc/piops/redis-ca/ca.crt", Env(c, "REDIS_TLS_CA_FILE"));
            var mount = c.VolumeMounts.Single(m => m.Name == "redis-ca");
            Assert.Equal("/etc/piops/redis-ca", mount.MountPath);
            Assert.True(mount.ReadOnlyProperty);
            var secret = volumes.Single(v => v.Name == "redis-ca").Secret;
            Assert.Equal("redis-ca", secret.SecretName);
            Assert.Equal(("ca.pem", "ca.crt"), (secret.Items.Single().Key, secret.Items.Single().Path));
        }

        var trigger = Trigger(rendered);
        Assert.Equal("redis", Scalar(trigger, "type"));
        Assert.Equal("redis.example.com:6380", Scalar(trigger, "metadata", "address"));
        // KEDA refuses enableTLS together with a TriggerAuthentication's tls/ca.
        Assert.False(Has(trigger["metadata"], "enableTLS"));
        var auth = HelmChart.CustomObjects(rendered, "keda.sh/").Single(o => Scalar(o, "kind") == "TriggerAuthentication");
        Assert.Equal(Scalar(auth, "metadata", "name"), Scalar(trigger, "authenticationRef", "name"));
        var refs = ((YamlSequenceNode)auth["spec"]["secretTargetRef"]).Children
            .ToDictionary(r => Scalar(r, "parameter"), r => (Scalar(r, "name"), Scalar(r, "key")));
        Assert.Equal(("redis-ca", "ca.pem"), refs["ca"]);
        var tlsSecret = HelmChart.Objects(rendered).OfType<V1Secret>().Single(s => s.Metadata.Name == refs["tls"].Item1);
        Assert.Equal("enable", tlsSecret.StringData[refs["tls"].Item2]);
    }

    [Fact]
    public void TlsWithoutACa_TrustsTheImagesCas_AndTellsKedaToUseTls()
    {
        string rendered = HelmChart.RenderWithValues(Keda + """
            redis:
              deploy: false
              external: { host: redis.example.com, tls: { enabled: true } }
            """);

        foreach (var (where, c, volumes) in RedisClients(HelmChart.Objects(rendered)))
        {
            Assert.True("true" == Env(c, "REDIS_TLS"), where);
            Assert.Null(Env(c, "REDIS_TLS_CA_FILE"));
            Assert.DoesNotContain(volumes, v => v.Name == "redis-ca");
        }

        Assert.Equal("true", Scalar(Trigger(rendered), "metadata", "enableTLS"));
        Assert.DoesNotContain(HelmChart.CustomObjects(rendered, "keda.sh/"), o => Scalar(o, "kind") == "TriggerAuthentication");
    }

    [Fact]
    public void InChartReplicasAndSentinel_RunAPrimaryWithReplicasAndThreeSentinels_AndPodsConnectThroughThem()
    {
        string rendered = HelmChart.RenderWithValues(Keda + "redis:\n  replicas: 2\n  sentinel: { enabled: true }\n");
        var objects = HelmChart.Objects(rendered);

        var redis = objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "piops-redis");
        Assert.Equal(3, redis.Spec.Replicas);
        string start = redis.Spec.Template.Spec.Containers[0].Args.Single();
        Assert.Contains("--replicaof \"$primary\" 6379", start);
        Assert.Contains("sentinel get-master-addr-by-name piops", start);
        Assert.Contains("primary=\"piops-redis-0.piops-redis.ops.svc\"", start);

        var sentinels = objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "piops-redis-sentinel");
        Assert.Equal(3, sentinels.Spec.Replicas);
        string conf = sentinels.Spec.Template.Spec.Containers[0].Args.Single();
        Assert.Contains("sentinel monitor piops $primary 6379 2\n", conf);
        Assert.Contains("sentinel resolve-hostnames yes\n", conf);
        Assert.Contains("sentinel announce-hostnames yes\n", conf);
        Assert.Contains("sentinel down-after-milliseconds piops 5000\n", conf);
        var sentinelPod = sentinels.Spec.Template.Metadata.Labels;
        Assert.All(sentinels.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, sentinelPod[l.Key]));
        var service = objects.OfType<V1Service>().Single(s => s.Metadata.Name == sentinels.Spec.ServiceName);
        Assert.Equal(26379, service.Spec.Ports.Single().Port);
        Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, sentinelPod[l.Key]));

        // Every client names each Sentinel pod by its stable name, and none names a single Redis.
        string expected = string.Join(",", Enumerable.Range(0, 3).Select(i => $"piops-redis-sentinel-{i}.piops-redis-sentinel.ops.svc:26379"));
        foreach (var (where, c, _) in RedisClients(objects))
        {
            Assert.True(expected == Env(c, "REDIS_SENTINELS"), where);
            Assert.Equal("piops", Env(c, "REDIS_SENTINEL_SERVICE"));
            Assert.Null(Env(c, "REDIS_HOST"));
        }

        // The NetworkPolicy admits this release's pods to the Sentinels' port, and Redis' own is unchanged.
        var policy = objects.OfType<V1NetworkPolicy>().Single(p => p.Spec.Ports().Contains(26379));
        Assert.All(policy.Spec.PodSelector.MatchLabels, l => Assert.Equal(l.Value, sentinelPod[l.Key]));
        var workerPod = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "piops-worker").Spec.Template.Metadata.Labels;
        Assert.All(policy.Spec.Ingress.Single().FromProperty.Single().PodSelector.MatchLabels, l => Assert.Equal(l.Value, workerPod[l.Key]));
        Assert.All(policy.Spec.Ingress.Single().FromProperty.Single().PodSelector.MatchLabels, l => Assert.Equal(l.Value, sentinelPod[l.Key]));
        Assert.Contains(objects.OfType<V1NetworkPolicy>(), p => p.Spec.Ports().SequenceEqual([6379]));

        var trigger = Trigger(rendered);
        Assert.Equal("redis-sentinel", Scalar(trigger, "type"));
        Assert.Equal(expected, Scalar(trigger, "metadata", "addresses"));
        Assert.Equal("piops", Scalar(trigger, "metadata", "sentinelMaster"));
    }

    [Fact]
    public void InChartReplicasWithoutSentinel_KeepPodsOnThePrimary()
    {
        var objects = HelmChart.Objects(HelmChart.RenderWithValues(Keda + "redis:\n  replicas: 1\n"));

        var redis = objects.OfType<V1StatefulSet>().Single();
        Assert.Equal(2, redis.Spec.Replicas);
        Assert.DoesNotContain("sentinel", redis.Spec.Template.Spec.Containers[0].Args.Single());
        foreach (var (where, c, _) in RedisClients(objects))
        {
            Assert.True("piops-redis-0.piops-redis" == Env(c, "REDIS_HOST"), where);
        }
    }

    [Fact]
    public void Defaults_KeepTheBooksSingleRedis()
    {
        var objects = HelmChart.Objects(HelmChart.Render());

        var redis = objects.OfType<V1StatefulSet>().Single();
        Assert.Equal(1, redis.Spec.Replicas);
        Assert.Null(redis.Spec.Template.Spec.Containers[0].Command);
        Assert.Equal(["--appendonly", "yes", "--appendfsync", "everysec", "--dir", "/data", "--save", ""], redis.Spec.Template.Spec.Containers[0].Args);
        Assert.Single(objects.OfType<V1NetworkPolicy>());
    }

    [Theory]
    [InlineData("redis:\n  sentinel: { enabled: true }\n", "redis.sentinel.enabled needs redis.replicas of 1 or more")]
    [InlineData("redis:\n  replicas: 1\n  sentinel: { enabled: true, quorum: 4 }\n", "redis.sentinel.quorum (4) cannot be more than redis.sentinel.replicas (3)")]
    [InlineData("redis:\n  deploy: false\n  sentinel: { enabled: true }\n  external: { host: r }\n", "for an external Redis with Sentinel set redis.external.sentinel")]
    [InlineData("redis:\n  deploy: false\n  external: { host: r, cluster: { nodes: [a:1] } }\n", "give one of host (one Redis), sentinel.addresses (Sentinel) or cluster.nodes (Redis Cluster), not host and cluster.nodes")]
    [InlineData("redis:\n  deploy: false\n  external: { sentinel: { addresses: [s:26379] } }\n", "redis.external.sentinel.addresses is set but redis.external.sentinel.service is not")]
    [InlineData("redis:\n  deploy: false\n  external: { host: r, tls: { caSecret: { name: ca } } }\n", "redis.external.tls.caSecret is set but redis.external.tls.enabled is false")]
    public void ContradictoryRedisValues_FailWithASentenceSayingWhatToDo(string values, string message)
    {
        var refused = Assert.Throws<ChartRenderException>(() => HelmChart.RenderWithValues(values));
        Assert.Contains(message, refused.Message);
    }
}

internal static class NetworkPolicyExtensions
{
    public static IEnumerable<int> Ports(this V1NetworkPolicySpec spec) =>
        spec.Ingress.SelectMany(i => i.Ports).Select(p => int.Parse(p.Port.Value));
}
