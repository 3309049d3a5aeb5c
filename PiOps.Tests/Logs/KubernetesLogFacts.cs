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
        await Eventually.WaitAsync(() => second.Lines.Count >= 4, Wait, "both pods' lines in the second viewer");

        Assert.Equal(2, cluster.Api.Requests("get pods/log"));
        first.Dispose();
        second.Dispose();
        await Eventually.WaitAsync(() => cluster.Api.OpenLogStreams == 0, Wait, "the streams closed with the last viewer");
    }

    [Fact]
    public async Task Actions_AreAnnotatedWithTheUser_AndMadeAsThemWhenImpersonating()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Auth:AdminPassword"] = "admin-password-1",
            ["Auth:Impersonate"] = "true",
        });
        await using var scope = cluster.App.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<UserContext>().User = SignInService.Principal("otto", Roles.Operator, "test");
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();

        await runtime.CreateJobAsync(JobSpec.Templates[1].Spec);

        var job = cluster.Api.Get("jobs", "addwork");
        Assert.Equal("otto", job!["metadata"]!["annotations"]![KubernetesRuntime.RequestedBy]!.GetValue<string>());
        Assert.Contains("create jobs as otto (piops:Operator)", cluster.Api.Impersonations);
        // The cache's own watches go as the service account.
        Assert.DoesNotContain(cluster.Api.Impersonations, i => i.StartsWith("watch", StringComparison.Ordinal));
    }
}
