using k8s.Models;
using Xunit;

namespace PiOps.Tests.Chart;

/// <summary>The proxies the dashboard believes X-Forwarded-For from: none unless the values name them.</summary>
public class ChartProxyFacts
{
    private static IList<V1EnvVar> DashboardEnv(string rendered) =>
        HelmChart.Objects(rendered).OfType<V1Deployment>().Single(d => d.Metadata.Name.EndsWith("-dashboard", StringComparison.Ordinal))
            .Spec.Template.Spec.Containers[0].Env;

    [Fact]
    public void KnownProxies_ByDefault_AreNone()
    {
        Assert.DoesNotContain(DashboardEnv(HelmChart.Render()), e => e.Name.StartsWith("Auth__KnownProxies", StringComparison.Ordinal));
    }

    [Fact]
    public void KnownProxies_FromTheValues_ReachTheDashboard()
    {
        var env = DashboardEnv(HelmChart.RenderWithValues("dashboard:\n  knownProxies: [10.42.0.0/16, 10.0.0.5]\n"));

        Assert.Equal("10.42.0.0/16", env.Single(e => e.Name == "Auth__KnownProxies__0").Value);
        Assert.Equal("10.0.0.5", env.Single(e => e.Name == "Auth__KnownProxies__1").Value);
    }
}
