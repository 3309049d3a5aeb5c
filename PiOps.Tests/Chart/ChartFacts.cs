using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using k8s;
using k8s.Models;
using PiOps.Web.Kubernetes;
using Xunit;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace PiOps.Tests.Chart;

/// <summary>charts/piops rendered for its defaults and each option, every document read strictly with KubernetesClient.</summary>
public class ChartFacts
{
    private static readonly Lazy<List<IKubernetesObject>> Defaults = new(() => HelmChart.Objects(HelmChart.Render()));

    private static T One<T>(IEnumerable<IKubernetesObject> objects, string nameSuffix) where T : IKubernetesObject<V1ObjectMeta> =>
        objects.OfType<T>().Single(o => o.Metadata.Name.EndsWith(nameSuffix, StringComparison.Ordinal));

    [Fact]
    public void Defaults_RenderTheBooksSystem()
    {
        var kinds = Defaults.Value.Select(o => o.Kind).Order().ToList();

        Assert.Equal(["ConfigMap", "ConfigMap", "Deployment", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "Role", "RoleBinding",
            "Secret", "Service", "Service", "ServiceAccount", "StatefulSet"], kinds);
    }

    [Fact]
    public void Observability_DeclaresTheWorkersMetricsPort_AndPassesTheOtlpEndpoint()
    {
        var objects = HelmChart.Objects(HelmChart.Render("worker.metrics.port=9464",
            "observability.otlpEndpoint=http://collector.monitoring:4318"));
        var worker = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-worker"));
        var container = worker.Spec.Template.Spec.Containers.Single();
        Assert.Equal(9464, container.Ports.Single(p => p.Name == "metrics").ContainerPort);
        Assert.Equal("9464", container.Env.Single(e => e.Name == "METRICS_PORT").Value);
        Assert.Equal("9464", worker.Spec.Template.Metadata.Annotations["prometheus.io/port"]);
        foreach (var d in objects.OfType<V1Deployment>().Where(d => d.Metadata.Name.EndsWith("-worker") || d.Metadata.Name.EndsWith("-dashboard")))
        {
            Assert.Equal("http://collector.monitoring:4318",
                d.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "OTEL_EXPORTER_OTLP_ENDPOINT").Value);
        }

        // Off by default: the book's worker opens no port and sends nothing.
        var plain = Defaults.Value.OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-worker")).Spec.Template.Spec.Containers.Single();
        Assert.Null(plain.Ports);
        Assert.DoesNotContain(plain.Env, e => e.Name is "METRICS_PORT" or "OTEL_EXPORTER_OTLP_ENDPOINT");
    }

    [Fact]
    public void EveryObject_CarriesTheStandardLabels()
    {
        foreach (var o in Defaults.Value.Cast<IKubernetesObject<V1ObjectMeta>>())
        {
            var labels = o.Metadata.Labels;
            foreach (var key in new[] { "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                         "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of" })
            {
                Assert.True(labels?.ContainsKey(key) == true, $"{o.Kind}/{o.Metadata.Name} lacks {key}");
            }
        }
    }

    [Fact]
    public void Selectors_MatchTheirPodTemplates()
    {
        foreach (var d in Defaults.Value.OfType<V1Deployment>())
        {
            Assert.All(d.Spec.Selector.MatchLabels, kv => Assert.Equal(kv.Value, d.Spec.Template.Metadata.Labels[kv.Key]));
        }

        var redis = Defaults.Value.OfType<V1StatefulSet>().Single();
        Assert.All(redis.Spec.Selector.MatchLabels, kv => Assert.Equal(kv.Value, redis.Spec.Template.Metadata.Labels[kv.Key]));
        foreach (var svc in Defaults.Value.OfType<V1Service>())
        {
            var target = Defaults.Value.OfType<V1Deployment>().Select(d => d.Spec.Template.Metadata.Labels)
                .Append(redis.Spec.Template.Metadata.Labels);
            Assert.Contains(target, labels => svc.Spec.Selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value));
        }
    }

    [Fact]
    public void Workers_AreTheBooksDeployment_NonRoot_WithTheLivenessProbe()
    {
        var worker = One<V1Deployment>(Defaults.Value, "-worker");
        var pod = worker.Spec.Template.Spec;
        var c = pod.Containers.Single();

        Assert.Null(worker.Spec.Replicas); // the HPA owns the count
        Assert.Equal("250m", c.Resources.Requests["cpu"].ToString());
        Assert.Equal("250Mi", c.Resources.Requests["memory"].ToString());
        Assert.Equal("250m", c.Resources.Limits["cpu"].ToString());
        Assert.Equal("250Mi", c.Resources.Limits["memory"].ToString());
        Assert.Equal(120, pod.TerminationGracePeriodSeconds);
        Assert.Equal(["/app/PiOps.Worker", "check-liveness", "logs/lastrun.date", "300"], c.LivenessProbe.Exec.Command);
        Assert.Equal((60, 30, 1, 1), (c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds,
            c.LivenessProbe.TimeoutSeconds, c.LivenessProbe.SuccessThreshold));
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
        var logs = c.VolumeMounts.Single(m => m.MountPath == "/app/logs");
        Assert.NotNull(pod.Volumes.Single(v => v.Name == logs.Name).EmptyDir);
        var env = c.Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("piops-redis-0.piops-redis", env["REDIS_HOST"]);
        Assert.Equal("110", env["SHUTDOWN_TIMEOUT_SECONDS"]);
        Assert.Equal("queue:task", env["QUEUE_NAME"]);
    }

    [Fact]
    public void Autoscaler_IsTheBooksHpa()
    {
        var hpa = Defaults.Value.OfType<V2HorizontalPodAutoscaler>().Single();

        Assert.Equal((2, 10), (hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas));
        Assert.Equal(20, hpa.Spec.Metrics.Single().Resource.Target.AverageUtilization);
        Assert.Equal(One<V1Deployment>(Defaults.Value, "-worker").Metadata.Name, hpa.Spec.ScaleTargetRef.Name);
    }

    [Fact]
    public void Redis_IsAPersistentStatefulSet_WithAppendOnly_AndProbes()
    {
        var redis = Defaults.Value.OfType<V1StatefulSet>().Single();
        var c = redis.Spec.Template.Spec.Containers.Single();

        Assert.Contains("--appendonly", c.Args);
        Assert.Equal("yes", c.Args[c.Args.IndexOf("--appendonly") + 1]);
        Assert.NotNull(c.ReadinessProbe);
        Assert.NotNull(c.LivenessProbe);
        Assert.Equal("1Gi", redis.Spec.VolumeClaimTemplates.Single().Spec.Resources.Requests["storage"].ToString());
        Assert.True(redis.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
    }

    [Fact]
    public void Role_GrantsExactlyWhatTheCodeUses_NamespacedAndWithoutSecrets()
    {
        var role = Defaults.Value.OfType<V1Role>().Single();
        var granted = role.Rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.SelectMany(res => r.Verbs.Select(v => $"{g}/{res}:{v}"))))
            .Order().ToList();
        var used = KubernetesPermissions.Rules.SelectMany(r => r.Verbs.Select(v => $"{r.ApiGroup}/{r.Resource}:{v}")).Order().ToList();

        Assert.Equal(used, granted);
        Assert.DoesNotContain(granted, g => g.Contains("secrets", StringComparison.Ordinal));
        Assert.DoesNotContain(Defaults.Value, o => o.Kind is "ClusterRole" or "ClusterRoleBinding");
        var binding = Defaults.Value.OfType<V1RoleBinding>().Single();
        Assert.Equal(Defaults.Value.OfType<V1ServiceAccount>().Single().Metadata.Name, binding.Subjects.Single().Name);
    }

    [Fact]
    public void Impersonation_WhenAsked_GrantsOnlyImpersonate_AndTurnsItOn()
    {
        var objects = HelmChart.Objects(HelmChart.Render("dashboard.impersonate=true"));

        var role = Assert.Single(objects.OfType<k8s.Models.V1ClusterRole>());
        Assert.All(role.Rules, r => Assert.Equal(["impersonate"], r.Verbs));
        Assert.Equal(["groups", "users"], role.Rules.SelectMany(r => r.Resources).Order());
        Assert.Single(objects.OfType<k8s.Models.V1ClusterRoleBinding>());
        var env = objects.OfType<k8s.Models.V1Deployment>().Single(d => d.Metadata.Name.EndsWith("dashboard", StringComparison.Ordinal))
            .Spec.Template.Spec.Containers[0].Env;
        Assert.Contains(env, e => e.Name == "Auth__Impersonate" && e.Value == "true");
    }

    [Fact]
    public void Impersonation_CannotActAsSystemMasters_OnlyAsThePiOpsGroupsAndTheListedUsers()
    {
        var objects = HelmChart.Objects(HelmChart.RenderWithValues("""
            dashboard:
              impersonate: true
              impersonateUsers: [alice]
            """));

        var rules = Assert.Single(objects.OfType<k8s.Models.V1ClusterRole>()).Rules;
        // A rule without resourceNames would allow every name: system:masters, i.e. cluster-admin.
        Assert.All(rules, r => Assert.NotEmpty(r.ResourceNames ?? []));
        var groups = rules.Where(r => r.Resources.Contains("groups")).SelectMany(r => r.ResourceNames).Order();
        Assert.Equal(["piops:admin", "piops:operator", "piops:viewer"], groups);
        Assert.DoesNotContain("system:masters", rules.SelectMany(r => r.ResourceNames));
        Assert.Equal(["admin", "alice"], rules.Where(r => r.Resources.Contains("users")).SelectMany(r => r.ResourceNames).Order());

        // Each piops group is bound in the namespace: the viewer reads, operators and admins get the dashboard's Role.
        var bindings = objects.OfType<k8s.Models.V1RoleBinding>().ToList();
        string RoleOf(string group) => bindings.Single(b => b.Subjects.Any(s => s.Kind == "Group" && s.Name == group)).RoleRef.Name;
        Assert.Equal(RoleOf("piops:operator"), RoleOf("piops:admin"));
        Assert.EndsWith("-dashboard", RoleOf("piops:operator"), StringComparison.Ordinal);
        var viewer = objects.OfType<k8s.Models.V1Role>().Single(r => r.Metadata.Name == RoleOf("piops:viewer"));
        Assert.Equal(["get", "list", "watch"], viewer.Rules.SelectMany(r => r.Verbs).Distinct().Order());
    }

    [Fact]
    public void Dashboard_ProbesHealth_RunsNonRoot_AndReadsTheGeneratedPassword()
    {
        var dashboard = One<V1Deployment>(Defaults.Value, "-dashboard");
        var c = dashboard.Spec.Template.Spec.Containers.Single();

        Assert.Equal("/health/live", c.LivenessProbe.HttpGet.Path);
        Assert.Equal("/health/ready", c.ReadinessProbe.HttpGet.Path);
        Assert.True(dashboard.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
        Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
        var secret = Defaults.Value.OfType<V1Secret>().Single();
        Assert.Equal(24, secret.Data["password"].Length);
        Assert.Equal("keep", secret.Metadata.Annotations["helm.sh/resource-policy"]);
        Assert.Equal(secret.Metadata.Name, c.Env.Single(e => e.Name == "Auth__AdminPassword").ValueFrom.SecretKeyRef.Name);
    }

    [Fact]
    public void TemplatesConfigMap_HoldsTheBooksJobsAndCronJob_AsValidObjects()
    {
        var map = Defaults.Value.OfType<V1ConfigMap>().Single(c => c.Metadata.Name.EndsWith("-templates", StringComparison.Ordinal));

        var worker = KubernetesYaml.Deserialize<V1Job>(map.Data["job-worker.yaml"], strict: true);
        Assert.Equal((2, 2), (worker.Spec.Parallelism, worker.Spec.BackoffLimit));
        Assert.Equal("OnFailure", worker.Spec.Template.Spec.RestartPolicy);
        Assert.Contains(worker.Spec.Template.Spec.Containers[0].Env, e => e.Name == "COMPLETE_WHEN_EMPTY" && e.Value == "1");
        var indexed = KubernetesYaml.Deserialize<V1Job>(map.Data["job-indexed.yaml"], strict: true);
        Assert.Equal(("Indexed", 5, 3), (indexed.Spec.CompletionMode, indexed.Spec.Completions, indexed.Spec.Parallelism));
        var addwork = KubernetesYaml.Deserialize<V1Job>(map.Data["job-addwork.yaml"], strict: true);
        Assert.Equal(["add-tasks", "--count", "10"], addwork.Spec.Template.Spec.Containers[0].Args);
        var cron = KubernetesYaml.Deserialize<V1CronJob>(map.Data["cronjob-addwork.yaml"], strict: true);
        Assert.Equal("*/5 * * * *", cron.Spec.Schedule);
    }

    [Fact]
    public void NetworkPolicy_LetsOnlyThisReleasesPodsReachRedis()
    {
        var policy = Defaults.Value.OfType<V1NetworkPolicy>().Single();
        var from = policy.Spec.Ingress.Single().FromProperty.Single().PodSelector.MatchLabels;

        Assert.Equal("piops", from["app.kubernetes.io/instance"]);
        Assert.Equal("piops", from["app.kubernetes.io/part-of"]);
        Assert.Equal("redis", policy.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"]);
        // Every client of Redis carries those labels.
        foreach (var d in Defaults.Value.OfType<V1Deployment>())
        {
            Assert.All(from, kv => Assert.Equal(kv.Value, d.Spec.Template.Metadata.Labels[kv.Key]));
        }
    }

    [Fact]
    public void ExternalRedis_DeploysNone_AndPassesHostAndPasswordSecret()
    {
        var objects = HelmChart.Objects(HelmChart.Render("redis.deploy=false", "redis.external.host=redis.prod.svc",
            "redis.external.port=6380", "redis.external.passwordSecret.name=redis-auth"));

        Assert.Empty(objects.OfType<V1StatefulSet>());
        Assert.Empty(objects.OfType<V1NetworkPolicy>());
        var env = One<V1Deployment>(objects, "-worker").Spec.Template.Spec.Containers[0].Env;
        Assert.Equal("redis.prod.svc", env.Single(e => e.Name == "REDIS_HOST").Value);
        Assert.Equal("6380", env.Single(e => e.Name == "REDIS_PORT").Value);
        Assert.Equal("redis-auth", env.Single(e => e.Name == "REDIS_PASSWORD").ValueFrom.SecretKeyRef.Name);
    }

    [Fact]
    public void Namespaces_EachGetTheDashboardsRole_AndTheDashboardIsToldThem_ItsOwnFirst()
    {
        var objects = HelmChart.Objects(HelmChart.RenderWithValues("dashboard:\n  namespaces: [team-b, ops, team-c]\n"));

        var used = KubernetesPermissions.Rules.SelectMany(r => r.Verbs.Select(v => $"{r.ApiGroup}/{r.Resource}:{v}")).Order().ToList();
        var roles = objects.OfType<V1Role>().ToList();
        Assert.Equal([null, "team-b", "team-c"], roles.Select(r => r.Metadata.NamespaceProperty));
        Assert.All(roles, r => Assert.Equal(used, r.Rules.SelectMany(x => x.ApiGroups.SelectMany(g => x.Resources.SelectMany(res => x.Verbs.Select(v => $"{g}/{res}:{v}")))).Order()));
        var bindings = objects.OfType<V1RoleBinding>().ToList();
        Assert.Equal([null, "team-b", "team-c"], bindings.Select(b => b.Metadata.NamespaceProperty));
        string account = objects.OfType<V1ServiceAccount>().Single().Metadata.Name;
        Assert.All(bindings, b => Assert.Equal(("ServiceAccount", account, "ops"), (b.Subjects.Single().Kind, b.Subjects.Single().Name, b.Subjects.Single().NamespaceProperty)));
        Assert.DoesNotContain(objects, o => o.Kind is "ClusterRole" or "ClusterRoleBinding");
        var env = One<V1Deployment>(objects, "-dashboard").Spec.Template.Spec.Containers[0].Env;
        Assert.Equal(["ops", "team-b", "team-c"], env.Where(e => e.Name.StartsWith("Kubernetes__Namespaces__", StringComparison.Ordinal)).OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Value));
        Assert.Equal("metadata.namespace", env.Single(e => e.Name == "Kubernetes__Namespace").ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void Namespaces_ByDefault_AreOnlyTheReleasesOwn()
    {
        var env = One<V1Deployment>(Defaults.Value, "-dashboard").Spec.Template.Spec.Containers[0].Env;

        Assert.DoesNotContain(env, e => e.Name.StartsWith("Kubernetes__Namespaces", StringComparison.Ordinal));
        Assert.Null(Defaults.Value.OfType<V1Role>().Single().Metadata.NamespaceProperty);
    }

    [Theory]
    [InlineData("dashboard:\n  namespaces: [ok, Bad_NS]\n", "dashboard.namespaces[1] \"Bad_NS\" is not a valid namespace name")]
    [InlineData("dashboard:\n  namespaces: team-b\n", "dashboard.namespaces must be a list of namespace names")]
    public void Namespaces_ThatAreNotNames_FailWithAClearMessage(string values, string message)
    {
        var ex = Assert.Throws<ChartRenderException>(() => HelmChart.RenderWithValues(values));

        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void ExternalRedis_WithoutAHost_FailsWithAClearMessage()
    {
        var ex = Assert.Throws<ChartRenderException>(() => HelmChart.Render("redis.deploy=false"));
        Assert.Contains("redis.external.host is required", ex.Message);
    }

    [Fact]
    public void AutoscalingOff_FixesTwoReplicas_AndRendersNoHpa()
    {
        var objects = HelmChart.Objects(HelmChart.Render("worker.autoscaling.enabled=false"));

        Assert.Empty(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal(2, One<V1Deployment>(objects, "-worker").Spec.Replicas);
    }

    [Fact]
    public void Keda_WithoutItsApi_FallsBackToTheHpa_AndRendersAScaledObjectWhenAsked()
    {
        Assert.Single(HelmChart.Objects(HelmChart.Render("worker.keda.enabled=true")).OfType<V2HorizontalPodAutoscaler>());

        string rendered = HelmChart.Render("worker.keda.enabled=true", "worker.keda.skipCrdCheck=true");
        Assert.Empty(HelmChart.Objects(rendered).OfType<V2HorizontalPodAutoscaler>());
        var scaled = rendered.Split("\n---").Single(d => d.Contains("kind: ScaledObject"));
        var doc = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(scaled);
        var trigger = (Dictionary<object, object>)((List<object>)((Dictionary<object, object>)doc["spec"])["triggers"])[0];
        Assert.Equal("redis", trigger["type"]);
        Assert.Equal("queue:task", ((Dictionary<object, object>)trigger["metadata"])["listName"]);
    }

    [Fact]
    public void Ingress_AndAddworkCronJob_WhenEnabled()
    {
        var objects = HelmChart.Objects(HelmChart.Render("dashboard.ingress.enabled=true", "dashboard.ingress.host=piops.test",
            "dashboard.ingress.tlsSecret=piops-tls", "addwork.cronJob.enabled=true", "addwork.cronJob.schedule=@hourly"));

        var ingress = objects.OfType<V1Ingress>().Single();
        Assert.Equal("piops.test", ingress.Spec.Rules.Single().Host);
        Assert.Equal("piops-tls", ingress.Spec.Tls.Single().SecretName);
        var cron = objects.OfType<V1CronJob>().Single();
        Assert.Equal("@hourly", cron.Spec.Schedule);
        Assert.Equal("piops-addwork", cron.Metadata.Name);
    }

    [Fact]
    public void DashboardDisabled_RendersNoDashboardObjects()
    {
        var objects = HelmChart.Objects(HelmChart.Render("dashboard.enabled=false"));

        Assert.DoesNotContain(objects, o => o is V1Role or V1Secret or V1ServiceAccount or V1ConfigMap);
        Assert.Single(objects.OfType<V1Deployment>());
    }

    [Fact]
    public void Notes_SayHowToOpenTheDashboard_AndGetThePassword()
    {
        string rendered = HelmChart.Render([], notes: true);
        // helm-render renders NOTES.txt with --notes; `helm template` never prints notes, so then check the template.
        if (rendered.Contains("NOTES:"))
        {
            Assert.Contains("port-forward svc/piops-dashboard", rendered);
            Assert.Contains("get secret piops-admin -o jsonpath='{.data.password}' | base64 -d", rendered);
        }
        else
        {
            string notes = File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "templates", "NOTES.txt"));
            Assert.Contains("port-forward svc/", notes);
            Assert.Contains("get secret", notes);
        }
    }

    // values.schema.json, checked with a JSON Schema library: the defaults pass, each bad value fails.
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "values.schema.json")));

    private static JsonNode DefaultValues()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(HelmChart.ChartDirectory, "values.yaml"))));
        return ToJson(stream.Documents[0].RootNode)!;
    }

    // YAML to JSON with the core schema's scalar types (plain true/false, numbers, null), as Helm reads values.
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } p => p.Value switch
        {
            null or "" or "~" or "null" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            var v when long.TryParse(v, out long l) => JsonValue.Create(l),
            var v when double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) => JsonValue.Create(d),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode q => JsonValue.Create(q.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    [Fact]
    public void Schema_AcceptsTheDefaultValues()
    {
        var result = Schema.Evaluate(JsonDocument.Parse(DefaultValues().ToJsonString()).RootElement,
            new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("; ", result.Details?.Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")) ?? []));
    }

    [Theory]
    [InlineData("worker.replicas", "\"two\"")]
    [InlineData("worker.replicaCount", "3")]
    [InlineData("dashboard.service.type", "\"Magic\"")]
    [InlineData("worker.autoscaling.targetCPUUtilizationPercentage", "200")]
    [InlineData("worker.autoscaling.minReplicas", "0")]
    [InlineData("worker.image.repository", "\"\"")]
    [InlineData("worker.resources.requests.cpu", "\"lots\"")]
    [InlineData("dashboard.ingress.host", "\"Piops.Example.com\"")]
    [InlineData("addwork.cronJob.schedule", "\"\"")]
    [InlineData("queue.maxAttempts", "0")]
    [InlineData("redis.deploy", "\"no\"")]
    [InlineData("networkPolicy", "true")]
    [InlineData("unknownTopLevel", "1")]
    [InlineData("dashboard.namespaces", "\"team-b\"")]
    [InlineData("dashboard.namespaces", "[\"Team_B\"]")]
    [InlineData("dashboard.namespaces", "[\"team-b\", \"team-b\"]")]
    [InlineData("redis.external.tls.enabled", "\"yes\"")]
    [InlineData("redis.external.tls.ca", "\"ca.crt\"")]
    [InlineData("redis.external.sentinel.addresses", "\"s0:26379,s1:26379\"")]
    [InlineData("redis.external.cluster.nodes", "[\"node-0:7000:1\"]")]
    [InlineData("redis.external.cluster.nodes", "[\"node-0:7000,node-1:7000\"]")]
    [InlineData("redis.replicas", "-1")]
    [InlineData("redis.sentinel.quorum", "0")]
    [InlineData("redis.sentinel.masterName", "\"my master\"")]
    public void Schema_RejectsBadValues(string path, string json)
    {
        var values = DefaultValues();
        var parts = path.Split('.');
        var node = values;
        foreach (var p in parts[..^1])
        {
            node = node[p]!;
        }

        node[parts[^1]] = JsonNode.Parse(json);

        var result = Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement);
        Assert.False(result.IsValid, $"{path}={json} was accepted");
    }

    [Fact]
    public void Schema_RequiresAnExternalHost_WhenRedisIsNotDeployed()
    {
        var values = DefaultValues();
        values["redis"]!["deploy"] = false;

        Assert.False(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);
        values["redis"]!["external"]!["host"] = "redis.prod";
        Assert.True(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);
    }

    [Fact]
    public void Schema_TakesSentinelsOrClusterNodes_InPlaceOfAnExternalHost()
    {
        var values = DefaultValues();
        values["redis"]!["deploy"] = false;
        values["redis"]!["external"]!["sentinel"]!["addresses"] = new JsonArray("redis-node-0.redis-headless:26379", "[fd00::1]:26379");
        values["redis"]!["external"]!["sentinel"]!["service"] = "mymaster";
        Assert.True(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);

        values = DefaultValues();
        values["redis"]!["deploy"] = false;
        values["redis"]!["external"]!["cluster"]!["nodes"] = new JsonArray("node-0:7000", "node-1");
        Assert.True(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);
    }

    [Fact]
    public void Schema_RefusesSentinel_WithoutAReplicaToPromote()
    {
        var values = DefaultValues();
        values["redis"]!["sentinel"]!["enabled"] = true;

        Assert.False(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);
        values["redis"]!["replicas"] = 2;
        Assert.True(Schema.Evaluate(JsonDocument.Parse(values.ToJsonString()).RootElement).IsValid);
    }
}
