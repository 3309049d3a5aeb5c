using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Kubernetes;
using PiOps.Web.Kubernetes;
using PiOps.Web.Logs;
using PiOps.Web.Security;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Logs;

/// <summary>Logs and user attribution on the Kubernetes runtime, against the API double (pods/log with follow=true).</summary>
public sealed class KubernetesLogFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Follow_GetsNewLines_AndResumesWithoutRepeats_WhenTheServerEndsTheStream()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        string pod = cluster.Runtime.Current.Workers.Pods[0].Name;
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(cluster.Runtime, tailer, new LogTarget(LogTargetKind.Pod, pod), 1_000, 100);
        string Texts() => string.Join(" | ", session.Lines.Select(l => l.Text));

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == $"starting {pod}"), Wait, Texts);
        cluster.Api.WriteLog(pod, "got task: 1000");
        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "got task: 1000"), Wait, Texts);

        cluster.Api.EndLogStreams();
        cluster.Api.WriteLog(pod, "got task: 2000");

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "got task: 2000"), Wait, Texts);
        Assert.Single(session.Lines, l => l.Text == "got task: 1000");
        Assert.Single(session.Lines, l => l.Text == $"starting {pod}");
        Assert.True(cluster.Api.Requests("get pods/log") >= 2, "the stream was opened again");
    }

    [Fact]
    public async Task TwoViewers_OfTheDeployment_OpenOneStreamPerPod()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        var target = new LogTarget(LogTargetKind.Deployment, "pi-worker");

        var first = new LogSession(cluster.Runtime, tailer, target, 1_000, 100);
        var second = new LogSession(cluster.Runtime, tailer, target, 1_000, 100);
        await Eventually.WaitAsync(() => cluster.Api.OpenLogStreams == 2, Wait, () => $"two upstream streams ({cluster.Api.OpenLogStreams})");
        await Eventually.WaitAsync(() => second.Lines.Count >= 4, Wait,
            () => $"both pods' lines in the second viewer: {string.Join(" | ", second.Lines.Select(l => $"{l.Pod}: {l.Text}"))}; the first has {first.Lines.Count}");

        Assert.Equal(2, cluster.Api.Requests("get pods/log"));
        first.Dispose();
        second.Dispose();
        await Eventually.WaitAsync(() => cluster.Api.OpenLogStreams == 0, Wait, "the streams closed with the last viewer");
    }

    [Fact]
    public async Task ASelector_TailsThePodsItSelects_AndAttachesOnesThatAppear()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        await cluster.Runtime.CreateJobAsync(JobSpec.Templates[1].Spec);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Jobs.Any(j => j.Pods.Count > 0), Wait, "the Job's pod");
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(cluster.Runtime, tailer, LogTarget.Parse("selector/app=pi-worker")!, 1_000, 100);
        string Pods() => string.Join(", ", session.Pods.Select(p => p.Name));

        var before = cluster.Runtime.Current.Workers.Pods.Select(p => p.Name).ToList();
        Assert.Equal(before.Order(), session.Pods.Select(p => p.Name).Order());
        await cluster.Runtime.ScaleAsync(3);

        await Eventually.WaitAsync(() => session.Pods.Count == 3, Wait, Pods);
        string added = cluster.Runtime.Current.Workers.Pods.Select(p => p.Name).Except(before).Single();
        Assert.Contains(added, session.Pods.Select(p => p.Name));
        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == $"starting {added}"), Wait, () => string.Join(" | ", session.Lines.Select(l => l.Text)));
        Assert.DoesNotContain(session.Pods, p => p.Name.StartsWith("addwork", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARestartedPod_ShowsItsPreviousContainerFirst_AndARestartWhileFollowing()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        string pod = cluster.Runtime.Current.Workers.Pods[0].Name;
        cluster.Api.WriteLog(pod, "got task: 1 (before the crash)");
        cluster.Api.RestartPod(pod);
        cluster.Api.WriteLog(pod, "starting again");
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Single(p => p.Name == pod).Restarts == 1, Wait, "the restart in the cache");
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(cluster.Runtime, tailer, new LogTarget(LogTargetKind.Pod, pod), 1_000, 100);
        string Texts() => string.Join(" | ", session.Lines.Select(l => l.Text));

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "starting again"), Wait, Texts);
        var texts = session.Lines.Select(l => l.Text).ToList();
        int previous = texts.FindIndex(t => t.Contains("previous container (restart 1)", StringComparison.Ordinal));
        int crash = texts.IndexOf("got task: 1 (before the crash)");
        int current = texts.FindIndex(t => t.Contains("current container", StringComparison.Ordinal));
        Assert.True(previous >= 0 && previous < crash && crash < current && current < texts.IndexOf("starting again"), Texts());
        Assert.Equal(1, cluster.Api.Requests("get pods/log") - cluster.Api.OpenLogStreams);

        // It crashes again while we follow: the stream of the old container ends, the new one is followed.
        cluster.Api.RestartPod(pod);
        cluster.Api.WriteLog(pod, "third container");
        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "third container"), Wait, Texts);
        Assert.Contains(session.Lines, l => l.Text.Contains("container restarted (restart 2)", StringComparison.Ordinal));
        Assert.Single(session.Lines, l => l.Text == "starting again");
    }

    [Fact]
    public async Task ACompletedJobPod_KeepsItsLog_AndItsStreamEnds()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await cluster.Runtime.CreateJobAsync(JobSpec.Templates[1].Spec);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Jobs.Any(j => j.Pods.Count > 0), Wait, "the Job's pod");
        var job = cluster.Runtime.Current.Jobs.Single();
        string pod = job.Pods[0].Name;
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(cluster.Runtime, tailer, new LogTarget(LogTargetKind.Job, job.Name), 1_000, 100);
        string Texts() => string.Join(" | ", session.Lines.Select(l => l.Text));
        cluster.Api.WriteLog(pod, "added 10 tasks");
        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "added 10 tasks"), Wait, Texts);

        cluster.Api.CompleteJob(job.Name);

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text.Contains("pod succeeded: no more lines", StringComparison.Ordinal)), Wait, Texts);
        await Eventually.WaitAsync(() => cluster.Api.OpenLogStreams == 0, Wait, "no stream left open on the completed pod");
        int requests = cluster.Api.Requests("get pods/log");
        Assert.Contains(session.Lines, l => l.Text == $"starting {pod}");

        // A viewer that comes later still reads the whole log of the completed pod, from the shared buffer.
        using var later = new LogSession(cluster.Runtime, tailer, new LogTarget(LogTargetKind.Pod, pod), 1_000, 100);
        Assert.Contains(later.Lines, l => l.Text == "added 10 tasks");
        Assert.Equal(requests, cluster.Api.Requests("get pods/log"));
    }

    [Fact]
    public async Task Actions_AreAnnotatedWithTheUser_AndMadeAsThemWhenImpersonating()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Auth:AdminPassword"] = "admin-password-1",
            ["Auth:Impersonate"] = "true",
        });
        // The cluster's RBAC as the chart renders it, with otto among the users the dashboard may impersonate.
        cluster.Api.UseRbac(PiOps.Tests.Chart.HelmChart.Objects(PiOps.Tests.Chart.HelmChart.RenderWithValues("""
            dashboard:
              impersonate: true
              impersonateUsers: [otto]
            """)), "ops");
        await using var scope = cluster.App.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<UserContext>().User = SignInService.Principal("otto", Roles.Operator, "test");
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();

        await runtime.CreateJobAsync(JobSpec.Templates[1].Spec);

        var job = cluster.Api.Get("jobs", "addwork");
        Assert.Equal("otto", job!["metadata"]!["annotations"]![KubernetesRuntime.RequestedBy]!.GetValue<string>());
        Assert.Contains("create jobs as otto (piops:operator)", cluster.Api.Impersonations);
        // The cache's own watches go as the service account.
        Assert.DoesNotContain(cluster.Api.Impersonations, i => i.StartsWith("watch", StringComparison.Ordinal));
    }
}
