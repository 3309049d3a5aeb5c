using CliWrap;
using CliWrap.Buffered;
using k8s.Models;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace PiOps.Tests.Chart;

/// <summary>
/// The chart's Prometheus Operator objects, alert rules and Grafana dashboard: rendered only when asked, pointing at
/// what the chart's own Service and pods declare, and the rules accepted by Prometheus's own promtool.
/// </summary>
public sealed class MonitoringChartFacts
{
    private static string Render(params string[] sets) => HelmChart.Render(["monitoring.prometheusOperator=true", "worker.metrics.port=9464", .. sets], notes: false);

    private static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return ((YamlScalarNode)node).Value!;
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    [Fact]
    public void PrometheusOperatorObjects_AreRenderedOnlyWhenAsked_OrWhenTheirApiExists()
    {
        // helm template offline knows no monitoring.coreos.com/v1, so "auto" renders nothing, as on a cluster without it.
        Assert.Empty(HelmChart.CustomObjects(HelmChart.Render(), "monitoring.coreos.com/"));
        Assert.Empty(HelmChart.CustomObjects(HelmChart.Render("monitoring.prometheusOperator=false"), "monitoring.coreos.com/"));
        var kinds = HelmChart.CustomObjects(Render(), "monitoring.coreos.com/").Select(o => Scalar(o, "kind")).Order().ToList();
        Assert.Equal(["PodMonitor", "PrometheusRule", "ServiceMonitor"], kinds);
        // Without a worker metrics port there is nothing for a PodMonitor to scrape.
        var withoutPort = HelmChart.CustomObjects(HelmChart.Render("monitoring.prometheusOperator=true"), "monitoring.coreos.com/");
        Assert.DoesNotContain(withoutPort, o => Scalar(o, "kind") == "PodMonitor");
    }

    [Fact]
    public void Monitors_SelectTheChartsOwnServiceAndPods_ByTheirPortNames()
    {
        string rendered = Render("monitoring.labels.release=kube-prometheus-stack");
        var objects = HelmChart.Objects(rendered);
        var custom = HelmChart.CustomObjects(rendered, "monitoring.coreos.com/");

        var serviceMonitor = custom.Single(o => Scalar(o, "kind") == "ServiceMonitor");
        Assert.Equal("kube-prometheus-stack", Scalar(serviceMonitor, "metadata", "labels", "release"));
        var service = objects.OfType<V1Service>().Single(s => s.Metadata.Name.EndsWith("-dashboard"));
        var wanted = ((YamlMappingNode)Node(serviceMonitor, "spec", "selector", "matchLabels")).Children
            .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
        Assert.All(wanted, l => Assert.Equal(l.Value, service.Metadata.Labels[l.Key]));
        var endpoint = ((YamlSequenceNode)Node(serviceMonitor, "spec", "endpoints")).Children.Single();
        Assert.Contains(service.Spec.Ports, p => p.Name == Scalar(endpoint, "port"));
        Assert.Equal("/metrics", Scalar(endpoint, "path"));

        var podMonitor = custom.Single(o => Scalar(o, "kind") == "PodMonitor");
        var worker = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-worker"));
        var podLabels = ((YamlMappingNode)Node(podMonitor, "spec", "selector", "matchLabels")).Children
            .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
        Assert.All(podLabels, l => Assert.Equal(l.Value, worker.Spec.Template.Metadata.Labels[l.Key]));
        var podEndpoint = ((YamlSequenceNode)Node(podMonitor, "spec", "podMetricsEndpoints")).Children.Single();
        Assert.Contains(worker.Spec.Template.Spec.Containers.Single().Ports, p => p.Name == Scalar(podEndpoint, "port"));
    }

    [Fact]
    public async Task AlertRules_NameTheFiveConditions_WithARunbook_AndPromtoolAcceptsThem()
    {
        var rule = HelmChart.CustomObjects(Render(), "monitoring.coreos.com/").Single(o => Scalar(o, "kind") == "PrometheusRule");
        var groups = (YamlSequenceNode)Node(rule, "spec", "groups");
        var rules = groups.Children.SelectMany(g => ((YamlSequenceNode)Node(g, "rules")).Children).ToList();
        Assert.Equal(["PiOpsDeadLettersArriving", "PiOpsNoWorkerWhileTasksWait", "PiOpsOldestTaskTooOld", "PiOpsQueueGrowing", "PiOpsWorkersCrashLooping"],
            rules.Select(r => Scalar(r, "alert")).Order().ToList());
        Assert.All(rules, r =>
        {
            Assert.Contains("Runbook:", Scalar(r, "annotations", "description"));
            Assert.False(string.IsNullOrWhiteSpace(Scalar(r, "annotations", "summary")));
            Assert.Contains(Scalar(r, "labels", "severity"), new[] { "warning", "critical" });
        });

        // The rules as a Prometheus rule file (the CRD's spec is one), checked by Prometheus's own promtool.
        var file = new YamlStream(new YamlDocument(new YamlMappingNode { { "groups", groups } }));
        string path = Path.Combine(Path.GetTempPath(), $"piops-rules-{Guid.NewGuid():N}.yaml");
        using (var writer = new StreamWriter(path))
        {
            file.Save(writer, assignAnchors: false);
        }

        try
        {
            string promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
                ?? throw new Xunit.Sdk.XunitException("promtool is missing: install Debian's prometheus package (test.sh does, as root)");
            var run = await Cli.Wrap(promtool).WithArguments(["check", "rules", path]).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync();
            string output = run.StandardOutput + run.StandardError;
            Assert.True(run.ExitCode == 0, output);
            Assert.Contains("SUCCESS: 5 rules found", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Keda_CanAlsoScaleOnAPrometheusQuery()
    {
        string rendered = HelmChart.Render("worker.keda.enabled=true", "worker.keda.skipCrdCheck=true",
            "worker.keda.prometheusServerAddress=http://prometheus-operated.monitoring:9090");
        var triggers = KedaTriggers(rendered);
        Assert.Equal(["redis", "prometheus"], triggers.Select(t => Scalar(t, "type")));
        var prometheus = triggers[1];
        Assert.Equal("http://prometheus-operated.monitoring:9090", Scalar(prometheus, "metadata", "serverAddress"));
        Assert.Equal("""max(piops_queue_oldest_age_seconds{namespace="ops", service="piops-dashboard"})""", KedaPrometheusQuery());
        Assert.Equal("60", Scalar(prometheus, "metadata", "threshold"));

        var plain = HelmChart.CustomObjects(HelmChart.Render("worker.keda.enabled=true", "worker.keda.skipCrdCheck=true"), "keda.sh/").Single();
        Assert.Equal("redis", Scalar(((YamlSequenceNode)Node(plain, "spec", "triggers")).Children.Single(), "type"));
    }

    private static IList<YamlNode> KedaTriggers(string rendered) =>
        ((YamlSequenceNode)Node(HelmChart.CustomObjects(rendered, "keda.sh/").Single(), "spec", "triggers")).Children;

    /// <summary>The query of the ScaledObject's prometheus trigger, with its defaults, for release "piops" in "ops".</summary>
    public static string KedaPrometheusQuery() =>
        Scalar(KedaTriggers(HelmChart.Render("worker.keda.enabled=true", "worker.keda.skipCrdCheck=true",
            "worker.keda.prometheusServerAddress=http://prometheus-operated.monitoring:9090")).Single(t => Scalar(t, "type") == "prometheus"),
            "metadata", "query");

    /// <summary>The Grafana dashboard's JSON, as the chart renders it for release "piops" in namespace "ops".</summary>
    public static System.Text.Json.JsonDocument GrafanaDashboard()
    {
        var map = HelmChart.Objects(HelmChart.Render()).OfType<V1ConfigMap>().Single(c => c.Metadata.Name.EndsWith("-grafana-dashboard"));
        Assert.Equal("1", map.Metadata.Labels["grafana_dashboard"]);
        return System.Text.Json.JsonDocument.Parse(map.Data["piops.json"]);
    }
}
