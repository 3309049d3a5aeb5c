using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Local;

/// <summary>The local autoscaler with real worker processes, real CPU and a real queue on redis-server.</summary>
public sealed class LocalAutoscalingFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-hpa-").FullName;
    private DashboardApp _app = default!;

    private IWorkloadRuntime Runtime => _app.Workloads;

    public async Task InitializeAsync() =>
        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 1, restartDelay: "00:00:00.2",
            new Dictionary<string, string?> { ["LocalRuntime:AutoscalerInterval"] = "00:00:00.5", ["Dashboard:SampleInterval"] = "00:00:00.2" });

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private string Describe() =>
        $"desired {Runtime.Current.Workers.Desired}, pods {Runtime.Current.Workers.Pods.Count}: {Runtime.Current.Autoscaler?.Status} / {Runtime.Current.Autoscaler?.LastEvent}";

    [Fact]
    public async Task QueueLength_ScalesTheWorkersUp_AndBackDownAfterTheWindow()
    {
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Ready == 1, Wait, Describe);
        // Long tasks (about half a second each), so the queue stays long while the autoscaler looks.
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, Enumerable.Range(0, 60).Select(_ => (StackExchange.Redis.RedisValue)"800000000").ToArray());

        await Runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 1, 3, null, 5, 2));

        await Eventually.WaitAsync(() => Runtime.Current.Workers.Desired == 3 && Runtime.Current.Workers.Ready == 3, Wait, Describe);
        var view = Runtime.Current.Autoscaler!;
        Assert.Contains("capped at the maximum of 3", view.Status);
        Assert.Contains("Scaled from 1 to 3", view.LastEvent);
        Assert.NotNull(view.QueueLength);
        var refused = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.ScaleAsync(5));
        Assert.Contains("autoscaler", refused.Message);

        // The chart's history shows the replicas following the queue.
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler!.History.Any(p => p.Replicas == 3 && p.Desired == 3 && p.QueueDepth > 0), Wait,
            () => "a point of 3 replicas with tasks waiting: " + string.Join(", ", Runtime.Current.Autoscaler!.History.Select(p => $"{p.Replicas}/{p.Desired}/{p.QueueDepth}")));

        // The queue empties: after the 2 s window, back to the minimum, each pod stopped with SIGTERM.
        await server.Db.KeyDeleteAsync(new QueueKeys(_queue).Queue);
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Desired == 1 && Runtime.Current.Workers.Pods.Count == 1, Wait, Describe);
        Assert.Contains("Scaled from 3 to 1", Runtime.Current.Autoscaler!.LastEvent);
    }

    [Fact]
    public async Task Cpu_ScalesTheWorkersUp_AsTheBooksHpa()
    {
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Ready == 1, Wait, Describe);
        // One busy worker uses a whole core: 400% of its 250m request, far above the book's 20% target.
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, Enumerable.Range(0, 20).Select(_ => (StackExchange.Redis.RedisValue)"2000000000").ToArray());

        await Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = true, MinReplicas = 1, MaxReplicas = 2, ScaleDownStabilizationSeconds = 1 });

        await Eventually.WaitAsync(() => Runtime.Current.Workers.Desired == 2, Wait, Describe);
        Assert.Contains("CPU", Runtime.Current.Autoscaler!.LastEvent);
        Assert.True(Runtime.Current.Autoscaler.CpuPercent > 20, Describe());
        await server.Db.KeyDeleteAsync(new QueueKeys(_queue).Queue);
    }
}
