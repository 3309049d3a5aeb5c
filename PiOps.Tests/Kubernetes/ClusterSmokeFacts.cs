using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// The smoke script an operator runs against a real cluster (bench/cluster-smoke.sh, named in docs/deploy.md), run here
/// against the API double, a dashboard in this process and a real worker: it passes when the product works, and fails,
/// saying which check, when no worker computes the tasks (issue 15).
/// </summary>
public sealed class ClusterSmokeFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly string Script = Path.Combine(Repository.Root, "bench", "cluster-smoke.sh");

    private static Task<Kubectl.Result> SmokeAsync(Kubectl kubectl, ClusterDashboard cluster, int timeoutSeconds) =>
        kubectl.RunProgramAsync("bash", new Dictionary<string, string>
        {
            ["PIOPS_URL"] = cluster.App.BaseAddress,
            ["PIOPS_DEPLOYMENT"] = "pi-worker",
            ["PIOPS_TIMEOUT"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, TimeSpan.FromSeconds(timeoutSeconds * 6 + 60), Script, KubeApiDouble.Namespace);

    [Fact]
    public async Task SmokeScript_FailsWithoutAWorker_AndPassesWithOne()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        using var kubectl = new Kubectl(cluster.Api);
        string queue = cluster.App.Services.GetRequiredService<IOptions<QueueOptions>>().Value.QueueName;

        var without = await SmokeAsync(kubectl, cluster, timeoutSeconds: 5);
        Assert.True(without.ExitCode == 1, without.ToString());
        Assert.Contains("FAIL  task ", without.Out);
        Assert.Contains("smoke: some checks failed", without.Out);

        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, queue));
        var with = await SmokeAsync(kubectl, cluster, timeoutSeconds: 60);

        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.DoesNotContain("FAIL", with.Out);
        Assert.Equal(3, with.Out.Split('\n').Count(l => l.StartsWith("ok    task ", StringComparison.Ordinal) && l.Contains("3.14159", StringComparison.Ordinal)));
        Assert.Contains("ok    a negative iteration count is refused", with.Out);
        Assert.Contains("ok    deployment/pi-worker scaled to 3 and ready", with.Out);
        Assert.Equal(2, cluster.Api.Get("deployments", "pi-worker")!["spec"]!["replicas"]!.GetValue<int>());
    }
}
