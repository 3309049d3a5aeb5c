using k8s;
using k8s.Autorest;
using k8s.Models;
using PiOps.Web;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>Re-run never leaves fewer Jobs than before without saying so (issue 15, defect 2).</summary>
public sealed class RerunSafetyFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JobSpec Spec(string name) =>
        new(name, JobCommand.Worker, 1, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string>());

    private string Uid(string name) => Api.Get("jobs", name)?["metadata"]?["uid"]?.GetValue<string>() ?? "(no Job)";

    /// <summary>A create the API refuses, found by the dry run before anything is deleted.</summary>
    [Theory]
    [InlineData("quota", "jobs.batch \"quota\" is forbidden: exceeded quota: job-count")]
    [InlineData("hooked", "admission webhook \"policy.example.com\" denied the request: images must come from registry.example.com")]
    [InlineData("nocreate", "its Role needs the verb \"create\" on \"jobs\"")]
    public async Task Rerun_RefusedBeforeTheDelete_LeavesTheJob_AndSaysNothingWasDeleted(string name, string reason)
    {
        await _cluster.Runtime.CreateJobAsync(Spec(name));
        string uid = Uid(name);
        switch (name)
        {
            case "quota":
                Api.RefuseCreatesByQuota("jobs", "job-count", limit: 1);
                break;
            case "hooked":
                Api.RefuseCreatesByWebhook("jobs", "policy.example.com", "images must come from registry.example.com");
                break;
            default:
                Api.Forbid("create", "jobs");
                break;
        }

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => _cluster.Runtime.RerunJobAsync(name));

        Assert.Equal(uid, Uid(name));
        Assert.Equal(0, Api.Requests("delete jobs"));
        Assert.StartsWith($"The Job {name} was not re-run", ex.Message);
        Assert.Contains(reason, ex.Message);
        Assert.EndsWith($"Nothing was deleted: {name} is as it was.", ex.Message);
        if (name != "nocreate")
        {
            // A refusal by a quota or a webhook is not the Role's fault.
            Assert.Equal(1, Api.DryRuns("jobs"));
            Assert.DoesNotContain("Role needs", ex.Message);
        }
    }

    [Fact]
    public async Task Rerun_CreateFailingOnlyAfterTheDelete_PutsTheJobBack_AndSaysSo()
    {
        await _cluster.Runtime.CreateJobAsync(Spec("restored"));
        string uid = Uid("restored");
        // The dry run passes; the real create that follows the delete is denied once (say, a webhook that changed its
        // mind, or a quota taken meanwhile); the create that puts the Job back is not.
        Api.RefuseCreatesByWebhook("jobs", "flaky.example.com", "try later", code: 500, dryRunToo: false, times: 1);

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => _cluster.Runtime.RerunJobAsync("restored"));

        Assert.Equal(1, Api.Requests("delete jobs"));
        var back = Api.Get("jobs", "restored");
        Assert.NotNull(back);
        Assert.NotEqual(uid, Uid("restored"));
        Assert.Equal("true", back["metadata"]!["labels"]!["piops.io/managed"]!.GetValue<string>());
        Assert.StartsWith("The Job restored was deleted, but creating it again failed:", ex.Message);
        Assert.Contains("admission webhook \"flaky.example.com\" denied the request: try later", ex.Message);
        Assert.EndsWith("It was put back from its manifest as it was (a new Job of the same name: its earlier pods and status are gone).", ex.Message);
    }

    [Fact]
    public async Task Rerun_WhenNothingRefuses_DryRunsFirst_ThenDeletesAndCreates()
    {
        await _cluster.Runtime.CreateJobAsync(Spec("fine"));
        string uid = Uid("fine");

        await _cluster.Runtime.RerunJobAsync("fine");

        Assert.NotEqual(uid, Uid("fine"));
        Assert.Equal(1, Api.DryRuns("jobs"));
        var order = Api.Recorded.Where(r => (r.Method == "POST" && r.Path.EndsWith("/jobs", StringComparison.Ordinal)) || r.Path.EndsWith("/jobs/fine", StringComparison.Ordinal))
            .Select(r => $"{r.Method}{(r.Query.Contains("dryRun=All", StringComparison.Ordinal) ? " dry" : "")}").ToList();
        Assert.Equal(["POST", "GET", "POST dry", "DELETE"], order.Take(4));
    }

    [Fact]
    public async Task Double_DryRunCreate_AnswersTheObject_AndStoresNothing()
    {
        // apiserver/pkg/registry/generic/registry/dryrun.go: 201 with the object, no resourceVersion, nothing stored;
        // an existing name is still AlreadyExists.
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Api.Address });
        var job = _cluster.Runtime.JobFor(Spec("dry"));

        var created = await client.BatchV1.CreateNamespacedJobAsync(job, KubeApiDouble.Namespace, dryRun: "All");

        Assert.Equal("dry", created.Metadata.Name);
        Assert.NotNull(created.Metadata.Uid);
        Assert.Null(created.Metadata.ResourceVersion);
        Assert.Null(Api.Get("jobs", "dry"));
        await _cluster.Runtime.CreateJobAsync(Spec("dry"));
        var exists = await Assert.ThrowsAsync<HttpOperationException>(() => client.BatchV1.CreateNamespacedJobAsync(_cluster.Runtime.JobFor(Spec("dry")), KubeApiDouble.Namespace, dryRun: "All"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, exists.Response.StatusCode);
    }
}
