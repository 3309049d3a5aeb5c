using PiOps.Tests.Infrastructure;
using PiOps.Web;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Deletes that linger, as they do on a cluster (issue 15): a finalizer of another controller holds a deleted Job, a
/// Foreground delete keeps a Job until its pods are gone, and pods stop for their grace period. The double follows the
/// API server's store (KubeApiDouble.Deletion.cs); kubectl's own wait for a delete agrees with it.
/// </summary>
public sealed class LingeringDeleteFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Finalizer = "backup.example.com/snapshot";

    private static JobSpec Spec(string name, int parallelism = 1) =>
        new(name, JobCommand.Worker, parallelism, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string>());

    private static string Uid(KubeApiDouble api, string name) => api.Get("jobs", name)?["metadata"]?["uid"]?.GetValue<string>() ?? "(no Job)";

    private Task<ClusterDashboard> StartAsync(TimeSpan? jobDeletionTimeout = null) =>
        ClusterDashboard.StartAsync(server, jobDeletionTimeout is { } t
            ? new Dictionary<string, string?> { ["Kubernetes:JobDeletionTimeout"] = t.ToString() }
            : null);

    [Fact]
    public async Task Rerun_OfAJobHeldByAFinalizer_ShowsItDeleting_AndCreatesItOnceTheFinalizerGoes()
    {
        await using var cluster = await StartAsync();
        await cluster.Runtime.CreateJobAsync(Spec("held"));
        string uid = Uid(cluster.Api, "held");
        cluster.Api.AddFinalizer("jobs", "held", Finalizer);

        var rerun = cluster.Runtime.RerunJobAsync("held");
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Jobs.Any(j => j.Name == "held" && j.Condition == "Deleting"), Wait,
            "the held Job shown as Deleting");
        Assert.False(rerun.IsCompleted, "the re-run must wait while the old Job is held");
        Assert.Equal(uid, Uid(cluster.Api, "held"));

        cluster.Api.RemoveFinalizer("jobs", "held", Finalizer);
        await rerun.WaitAsync(Wait);

        Assert.NotEqual(uid, Uid(cluster.Api, "held"));
        Assert.Null(cluster.Api.Get("jobs", "held")!["metadata"]!["deletionTimestamp"]);
    }

    [Fact]
    public async Task Rerun_OfAJobThatStaysHeld_NamesItsFinalizers_AndCreatesNothing()
    {
        await using var cluster = await StartAsync(TimeSpan.FromSeconds(2));
        await cluster.Runtime.CreateJobAsync(Spec("stuck"));
        string uid = Uid(cluster.Api, "stuck");
        cluster.Api.AddFinalizer("jobs", "stuck", Finalizer);
        int creates = cluster.Api.Recorded.Count(r => r.Method == "POST" && r.Path.EndsWith("/jobs", StringComparison.Ordinal) && !r.Query.Contains("dryRun", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => cluster.Runtime.RerunJobAsync("stuck"));

        Assert.Equal($"The old Job stuck is still being deleted after 2 s: its finalizers {Finalizer} have not been removed by the controllers that own them. "
            + "It was not created again; re-run it once the Job is gone (kubectl get job stuck -o jsonpath='{.metadata.finalizers}').", ex.Message);
        Assert.Equal(uid, Uid(cluster.Api, "stuck"));
        Assert.NotNull(cluster.Api.Get("jobs", "stuck")!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(creates, cluster.Api.Recorded.Count(r => r.Method == "POST" && r.Path.EndsWith("/jobs", StringComparison.Ordinal) && !r.Query.Contains("dryRun", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rerun_BeforeTheSnapshotHasSeenTheJob_WaitsForTheApi_NotForTheSnapshot()
    {
        await using var cluster = await StartAsync();
        var slow = cluster.Api.DelayWatches();
        await cluster.Runtime.CreateJobAsync(Spec("fresh"));
        string uid = Uid(cluster.Api, "fresh");
        cluster.Api.AddFinalizer("jobs", "fresh", Finalizer);

        // The snapshot has not seen the Job at all, let alone its delete: only the API can say when it is gone.
        var rerun = cluster.Runtime.RerunJobAsync("fresh");
        await Eventually.WaitAsync(() => cluster.Api.Requests("delete jobs") == 1, Wait, "the old Job deleted");
        Assert.DoesNotContain(cluster.Runtime.Current.Jobs, j => j.Name == "fresh");
        cluster.Api.RemoveFinalizer("jobs", "fresh", Finalizer);
        slow.Dispose();
        await rerun.WaitAsync(Wait);

        Assert.NotEqual(uid, Uid(cluster.Api, "fresh"));
    }

    [Fact]
    public async Task ScaleDown_PodsTerminateForTheirGracePeriod_ShownAsTerminating_AndNeverRankedToGoAgain()
    {
        await using var cluster = await StartAsync();
        cluster.Api.KubeletStopTime = TimeSpan.FromSeconds(4);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "two worker pods");

        await cluster.Runtime.ScaleAsync(1);

        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Any(p => p.Phase == "Terminating"), Wait, "a Terminating pod");
        var pods = cluster.Runtime.Current.Workers.Pods;
        var stopping = Assert.Single(pods, p => p.Phase == "Terminating");
        Assert.False(stopping.Ready);
        Assert.Null(stopping.ScaleDownRank);
        Assert.Equal(1, Assert.Single(pods, p => p.Phase != "Terminating").ScaleDownRank);
        var stored = cluster.Api.Get("pods", stopping.Name)!;
        Assert.Equal(30, stored["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());

        await Eventually.WaitAsync(() => cluster.Api.Get("pods", stopping.Name) is null && cluster.Runtime.Current.Workers.Pods.Count == 1, Wait,
            "the pod gone once its containers stopped");
    }

    [Fact]
    public async Task ForegroundDelete_KeepsTheJobUntilItsPodsAreGone_AndKubectlWaitsForIt()
    {
        await using var cluster = await StartAsync();
        using var kubectl = new Kubectl(cluster.Api);
        cluster.Api.KubeletStopTime = TimeSpan.FromSeconds(3);
        await cluster.Runtime.CreateJobAsync(Spec("fg", parallelism: 2));
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Jobs.Any(j => j.Name == "fg" && j.Pods.Count == 2), Wait, "the Job's two pods");

        await kubectl.RunAsync("delete", "job", "fg", "--cascade=foreground", "--wait=false");

        var job = cluster.Api.Get("jobs", "fg");
        Assert.NotNull(job);
        Assert.Contains("foregroundDeletion", job["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Jobs.Any(j => j.Name == "fg" && j.Condition == "Deleting" && j.Pods.All(p => p.Phase == "Terminating")), Wait,
            "the Job Deleting with its pods Terminating");

        // kubectl's own wait for the delete ends once the double has removed the Job.
        await kubectl.RunAsync("wait", "--for=delete", "job/fg", "--timeout=20s");
        Assert.Null(cluster.Api.Get("jobs", "fg"));
        Assert.DoesNotContain(cluster.Api.Versions("pods").Keys, p => p.StartsWith("fg-", StringComparison.Ordinal));
    }
}
