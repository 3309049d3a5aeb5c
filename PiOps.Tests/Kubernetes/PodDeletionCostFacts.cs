using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Queue;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// A scale-down on Kubernetes removes idle workers first: busy pods carry a higher pod-deletion-cost, which the
/// ReplicaSet controller reads (issue 16, point 6). A real worker process, named as the double's pod, runs a real task.
/// </summary>
public sealed class PodDeletionCostFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string? Cost(string pod) => Api.Get("pods", pod)?["metadata"]?["annotations"]?[PodDeletionCosts.Annotation]?.GetValue<string>();

    [Fact]
    public async Task BusyPod_CostsMoreThanTheIdleOne_PatchedOnce_AndNotAgainWhileUnchanged()
    {
        var pods = _cluster.Runtime.Current.Workers.Pods.Select(p => p.Name).ToList();
        Assert.Equal(2, pods.Count);
        string busy = pods[0], idle = pods[1];
        string queue = _cluster.App.QueueActions.Queue.QueueName;
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, queue, ("POD_NAME", busy)));
        // A task long enough to keep the worker busy for the whole test.
        await server.Db.ListRightPushAsync(new QueueKeys(queue).Queue, ["90000000000"]);

        await Eventually.WaitAsync(() => Cost(busy) == PodDeletionCosts.BusyCost.ToString(System.Globalization.CultureInfo.InvariantCulture), Wait,
            () => $"the busy pod's deletion cost (now: {Cost(busy) ?? "none"}; worker output: {worker.Output})");
        Assert.Null(Cost(idle));
        Assert.Equal(1, Api.Requests("patch pods"));
        var patch = Assert.Single(Api.Recorded, r => r.Method == "PATCH" && r.Path.EndsWith("/pods/" + busy, StringComparison.Ordinal));
        Assert.Equal("application/merge-patch+json", patch.ContentType?.Split(';')[0]);
        await Eventually.WaitAsync(() => _cluster.Runtime.Current.Workers.Pods.Single(p => p.Name == busy) is { Busy: true, ScaleDownRank: 2 }
                                         && _cluster.Runtime.Current.Workers.Pods.Single(p => p.Name == idle) is { Busy: false, ScaleDownRank: 1 }, Wait,
            () => $"the idle pod first to go (now: {string.Join(", ", _cluster.Runtime.Current.Workers.Pods.Select(p => $"{p.Name} busy={p.Busy} rank={p.ScaleDownRank}"))})");

        // Heartbeats keep coming and the cache sees the patched pod: neither patches again while the value stands.
        int samples = 0;
        using var counting = _cluster.App.Services.GetRequiredService<IQueueState>().Subscribe(_ =>
        {
            Interlocked.Increment(ref samples);
            return Task.CompletedTask;
        });
        await Eventually.WaitAsync(() => Volatile.Read(ref samples) >= 4, Wait, "four more queue samples");
        Api.Mutate("pods", idle, p => p["metadata"]!["labels"]!["touched"] = "yes");
        await Eventually.WaitAsync(() => _cluster.Cache.Pods.Items.Any(p => p.Metadata.Name == idle && p.Metadata.Labels.ContainsKey("touched")), Wait, "a later pod change seen");
        await Eventually.WaitAsync(() => Volatile.Read(ref samples) >= 6, Wait, "two more queue samples");
        Assert.Equal(1, Api.Requests("patch pods"));
    }
}
