using System.Text.Json.Nodes;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Logs;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Logs of pods with a sidecar: the container is chosen as kubectl logs chooses it, and the API server's 400 for a
/// pod with several containers and none named is shown as its sentence, not retried in silence.
/// </summary>
public sealed class LogContainerFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    private KubernetesRuntime Runtime => _cluster.Backend;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task CacheSeesContainersAsync(string pod, int count) =>
        Eventually.WaitAsync(() => _cluster.Cache.Pods.Get(pod)?.Spec?.Containers?.Count == count, Wait, $"the cache to see {count} containers in {pod}");

    private bool AskedFor(string pod, string container) =>
        Api.Recorded.Any(r => r.Path.EndsWith($"/pods/{pod}/log", StringComparison.Ordinal) && r.Query.Contains($"container={container}", StringComparison.Ordinal));

    [Fact]
    public async Task SidecarInjectedFirst_TheWorkersContainerIsFollowed()
    {
        string pod = await _cluster.FirstWorkerPodAsync();
        Api.AddSidecar(pod, "istio-proxy");
        await CacheSeesContainersAsync(pod, 2);

        using var cts = new CancellationTokenSource(Wait);
        var seen = new List<string>();
        await foreach (var line in Runtime.FollowAsync(new PodAddress(null, pod), 10, cts.Token))
        {
            seen.Add(line.Text);
            if (seen.Count == 1)
            {
                Api.WriteLog(pod, "from the worker");
            }

            if (line.Text == "from the worker")
            {
                break;
            }
        }

        Assert.Contains("from the worker", seen);
        Assert.True(AskedFor(pod, "pi-container"), "pods/log was asked for container=pi-container");
    }

    [Fact]
    public async Task PickedContainer_IsRead_InsteadOfTheOneKubectlWouldChoose()
    {
        string pod = await _cluster.FirstWorkerPodAsync();
        Api.AddSidecar(pod, "log-shipper", first: false);
        await CacheSeesContainersAsync(pod, 2);
        Api.WriteLog(pod, "from the worker");
        Api.WriteLog(pod, "shipped 3 batches", sidecar: "log-shipper");

        using var cts = new CancellationTokenSource(Wait);
        string? first = null;
        await foreach (var line in Runtime.FollowAsync(new PodAddress(null, pod, "log-shipper"), 10, cts.Token))
        {
            first = line.Text;
            break;
        }

        Assert.Equal("shipped 3 batches", first);
        Assert.True(AskedFor(pod, "log-shipper"), "pods/log was asked for container=log-shipper");
        Assert.False(AskedFor(pod, "pi-container"), "the picked container, not the default");
    }

    [Fact]
    public async Task DefaultContainerAnnotation_IsFollowed_AsKubectlDoes()
    {
        string pod = await _cluster.FirstWorkerPodAsync();
        Api.AddSidecar(pod, "log-shipper", first: false);
        Api.Mutate("pods", pod, p => p["metadata"]!["annotations"] = new JsonObject { ["kubectl.kubernetes.io/default-container"] = "log-shipper" });
        await Eventually.WaitAsync(() => _cluster.Cache.Pods.Get(pod)?.Metadata?.Annotations?.ContainsKey("kubectl.kubernetes.io/default-container") == true,
            Wait, "the cache to see the annotation");

        using var cts = new CancellationTokenSource(Wait);
        var following = Task.Run(async () =>
        {
            await foreach (var _ in Runtime.FollowAsync(new PodAddress(null, pod), 10, cts.Token))
            {
            }
        });
        await Eventually.WaitAsync(() => AskedFor(pod, "log-shipper"), Wait, "pods/log to be asked for container=log-shipper");
        await cts.CancelAsync();
        await following.WaitAsync(Wait).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.False(AskedFor(pod, "pi-container"), "the annotation wins over the worker's container");
    }

    [Fact]
    public async Task SeveralContainersNoneNamed_The400IsShownAsASentence()
    {
        // A pod the cache does not know yet (the watches are held), so no container can be chosen: the API answers 400.
        Exception? failure = null;
        Api.ChangeWhileCompacting(api =>
        {
            api.Seed("pods", new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = "meshed" },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject { ["name"] = "istio-proxy", ["image"] = "istio-proxy:1.0" }, new JsonObject { ["name"] = "log-shipper", ["image"] = "log-shipper:1.0" }),
                },
                ["status"] = new JsonObject { ["phase"] = "Running" },
            });
            failure = Record.ExceptionAsync(async () =>
            {
                using var cts = new CancellationTokenSource(Wait);
                await foreach (var _ in Runtime.FollowAsync(new PodAddress(null, "meshed"), 10, cts.Token))
                {
                }
            }).WaitAsync(Wait + Wait).GetAwaiter().GetResult();
        });

        // The API server's sentence (pkg/registry/core/pod/strategy.go, LogLocation), once, instead of silent retries.
        Assert.IsType<LogStreamException>(failure);
        Assert.Equal("The API refused to read the log of pod meshed: a container name must be specified for pod meshed, choose one of: [istio-proxy log-shipper].", failure.Message);
    }
}
