using k8s.Models;
using Xunit;

namespace PiOps.Tests.Chart;

/// <summary>
/// Several dashboard replicas: each client stays with the replica that holds its Blazor page (the Service's ClientIP
/// affinity, ingress-nginx's cookie affinity), and a PodDisruptionBudget keeps one running through a drain. One replica,
/// the default, renders none of it.
/// </summary>
public class DashboardReplicasChartFacts
{
    private static List<k8s.IKubernetesObject> Render(int replicas, string extra = "") =>
        HelmChart.Objects(HelmChart.RenderWithValues($"dashboard:\n  replicas: {replicas}\n  ingress:\n    enabled: true\n{extra}"));

    private static V1Service Service(List<k8s.IKubernetesObject> objects) =>
        objects.OfType<V1Service>().Single(s => s.Metadata.Name.EndsWith("-dashboard", StringComparison.Ordinal));

    private static V1Deployment Dashboard(List<k8s.IKubernetesObject> objects) =>
        objects.OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-dashboard", StringComparison.Ordinal));

    [Fact]
    public void TwoReplicas_KeepEachClientOnOneReplica_AndABudgetKeepsOneThroughADrain()
    {
        var objects = Render(2);

        Assert.Equal(2, Dashboard(objects).Spec.Replicas);
        Assert.Equal("ClientIP", Service(objects).Spec.SessionAffinity);
        var ingress = objects.OfType<V1Ingress>().Single();
        Assert.Equal("cookie", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/affinity"]);
        var budget = objects.OfType<V1PodDisruptionBudget>().Single();
        Assert.Equal("1", budget.Spec.MinAvailable.Value);
        // The budget counts the dashboard's pods and no others.
        var podLabels = Dashboard(objects).Spec.Template.Metadata.Labels;
        Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, podLabels[l.Key]));
        Assert.Equal("dashboard", budget.Spec.Selector.MatchLabels["app.kubernetes.io/component"]);
    }

    [Fact]
    public void OneReplica_TheDefault_HasNoAffinityAndNoBudget()
    {
        var objects = Render(1);

        Assert.Null(Service(objects).Spec.SessionAffinity);
        Assert.Null(objects.OfType<V1Ingress>().Single().Metadata.Annotations);
        Assert.Empty(objects.OfType<V1PodDisruptionBudget>());
    }

    [Fact]
    public void AnOperatorsOwnAffinityAnnotation_IsKept()
    {
        var objects = Render(3, "    annotations:\n      nginx.ingress.kubernetes.io/affinity: none\n      team: ops\n");

        var annotations = objects.OfType<V1Ingress>().Single().Metadata.Annotations;
        Assert.Equal("none", annotations["nginx.ingress.kubernetes.io/affinity"]);
        Assert.Equal("ops", annotations["team"]);
    }
}
