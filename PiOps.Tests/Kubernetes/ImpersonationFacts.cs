using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Tests.Chart;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Security;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// With Auth:Impersonate the API, not only the dashboard, decides what a signed-in user may do: the double authorises
/// impersonated calls as the impersonated user and groups by the RBAC the chart renders (impersonation.go).
/// </summary>
public sealed class ImpersonationFacts(RedisServer server) : IClassFixture<RedisServer>
{
    /// <summary>The chart's objects with impersonation on and the users alice and otto listed.</summary>
    internal static readonly Lazy<List<k8s.IKubernetesObject>> ChartRbac = new(() =>
        HelmChart.Objects(HelmChart.RenderWithValues("""
            dashboard:
              impersonate: true
              impersonateUsers: [alice, otto]
            """)));

    [Fact]
    public async Task ImpersonatedViewer_IsRefusedByTheApi_InTheApiServersWords()
    {
        await using var cluster = await StartAsync();

        // Past the dashboard's own check (the guarded runtime refuses viewers first): the API must refuse too.
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => cluster.Runtime.CreateJobAsync(JobSpec.Templates[1].Spec, new Actor("alice", Roles.Viewer)));

        Assert.Contains(
            $"jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"{KubeApiDouble.Namespace}\"",
            ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("The cluster does not allow alice (group piops:viewer) to create jobs", ex.Message, StringComparison.Ordinal);
        Assert.Null(cluster.Api.Get("jobs", "addwork"));
    }

    [Fact]
    public async Task ImpersonatedOperator_MayCreate_AndAnUnlistedUserIsNotImpersonated()
    {
        await using var cluster = await StartAsync();

        await cluster.Runtime.CreateJobAsync(JobSpec.Templates[1].Spec, new Actor("otto", Roles.Operator));

        Assert.NotNull(cluster.Api.Get("jobs", "addwork"));
        Assert.Contains("create jobs as otto (piops:operator)", cluster.Api.Impersonations);

        // An admin the chart was not told about: the API refuses the impersonation itself.
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => cluster.Runtime.DeleteJobAsync("addwork", new Actor("mallory", Roles.Admin)));
        Assert.Contains(
            $"users \"mallory\" is forbidden: User \"{KubeApiDouble.ServiceAccount}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
            ex.Message, StringComparison.Ordinal);
        Assert.NotNull(cluster.Api.Get("jobs", "addwork"));
    }

    private async Task<ClusterDashboard> StartAsync()
    {
        var cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Auth:AdminPassword"] = "admin-password-1",
            ["Auth:Impersonate"] = "true",
        });
        cluster.Api.UseRbac(ChartRbac.Value.Select(o => o), "ops");
        return cluster;
    }
}
