using System.Text.Json.Nodes;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>The shared cache against a server that closes, expires, drops and spoils its watches.</summary>
public sealed class WatchResilienceFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JsonObject ManagedJob(string name) => new()
    {
        ["apiVersion"] = "batch/v1",
        ["kind"] = "Job",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["piops.io/managed"] = "true" } },
        ["spec"] = new JsonObject
        {
            ["template"] = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["restartPolicy"] = "Never",
                    ["containers"] = new JsonArray(new JsonObject { ["name"] = "pi-container", ["image"] = "piops-worker:0.1.0" }),
                },
            },
        },
        ["status"] = new JsonObject(),
    };

    private static Dictionary<string, string> Versions<T>(KindCache<T> cache)
        where T : class, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta> =>
        cache.Items.ToDictionary(i => i.Metadata.Name, i => i.Metadata.ResourceVersion);

    private string Difference()
    {
        var c = _cluster.Cache;
        var pairs = new (string Kind, IReadOnlyDictionary<string, string> Server, Dictionary<string, string> Cache)[]
        {
            ("deployments", Api.Versions("deployments"), Versions(c.Deployments)),
            ("pods", Api.Versions("pods"), Versions(c.Pods)),
            ("jobs", Api.Versions("jobs"), Versions(c.Jobs)),
            ("cronjobs", Api.Versions("cronjobs"), Versions(c.CronJobs)),
            ("horizontalpodautoscalers", Api.Versions("horizontalpodautoscalers"), Versions(c.Autoscalers)),
            ("events", Api.Versions("events"), Versions(c.Events)),
        };
        return string.Join("; ", pairs.Where(p => !p.Server.OrderBy(kv => kv.Key).SequenceEqual(p.Cache.OrderBy(kv => kv.Key)))
            .Select(p => $"{p.Kind}: server [{string.Join(",", p.Server.Select(kv => kv.Key + "@" + kv.Value))}] cache [{string.Join(",", p.Cache.Select(kv => kv.Key + "@" + kv.Value))}]"));
    }

    private Task CacheEqualsServerAsync(string what) =>
        Eventually.WaitAsync(() => Difference() == "", Wait, () => $"{what}: the cache equal to the server ({Difference()})");

    [Fact]
    public async Task ServerClosedWatch_IsWatchedAgain_WithoutListing()
    {
        int watches = Api.Requests("watch jobs");

        Api.CloseWatches();
        await Eventually.WaitAsync(() => Api.Requests("watch jobs") > watches, Wait, "the jobs watch started again");
        Api.Seed("jobs", ManagedJob("after-close"));
        Api.Mutate("deployments", "pi-worker", d => d["metadata"]!["labels"]!["touched"] = "yes");

        await CacheEqualsServerAsync("after a server-closed watch");
        Assert.Equal(1, Api.Requests("list jobs"));
    }

    [Fact]
    public async Task Bookmark_MovesTheWatchStart_AndTheNextWatchResumesFromIt()
    {
        // A change the pods watch does not see: only a bookmark brings that watch's version up to it.
        Api.Mutate("deployments", "pi-worker", d => d["metadata"]!["labels"]!["touched"] = "bookmark");
        long changed = long.Parse(Api.Versions("deployments")["pi-worker"]);
        await CacheEqualsServerAsync("after the change");
        Assert.True(long.Parse(_cluster.Cache.Pods.ResourceVersion!) < changed, "the pods watch saw nothing of the change");

        Api.SendBookmarks();
        await Eventually.WaitAsync(() => long.Parse(_cluster.Cache.Pods.ResourceVersion!) >= changed, Wait,
            () => $"the pods watch at the bookmark's version {changed} (now {_cluster.Cache.Pods.ResourceVersion})");
        string bookmark = _cluster.Cache.Pods.ResourceVersion!;
        int watches = Api.Requests("watch pods");
        Api.CloseWatches();

        await Eventually.WaitAsync(() => Api.Requests("watch pods") > watches, Wait, "the pods watch started again");
        var next = Api.Recorded.Last(r => r.Path.EndsWith("/pods", StringComparison.Ordinal) && r.Query.Contains("watch=true", StringComparison.Ordinal));
        Assert.Contains($"resourceVersion={bookmark}", next.Query);
        Assert.Contains("allowWatchBookmarks=true", next.Query);
        Assert.Equal(1, Api.Requests("list pods"));
    }

    [Fact]
    public async Task TooOldResourceVersion_ListsAgain_AndCatchesUp()
    {
        Api.ChangeWhileCompacting(api =>
        {
            api.Seed("jobs", ManagedJob("during-gap"));
            api.Delete("pods", api.Versions("pods").Keys.First());
        });

        // The re-list is awaited first: the cache can equal the server a moment before it, so checking the count
        // right after equality raced (a clean-clone run, 2026-12-01). A 410 that never leads to a list still fails here.
        await Eventually.WaitAsync(() => Api.Requests("list jobs") >= 2, Wait, "the jobs listed again after 410");
        await CacheEqualsServerAsync("after 410 Gone");
        // The runtime publishes after the cache's coalescing pump (50 ms), so the snapshot may trail the cache a moment.
        await Eventually.WaitAsync(() => _cluster.Runtime.Current.Jobs.Any(j => j.Name == "during-gap"), Wait, "the Job made during the gap in the snapshot");
    }

    [Fact]
    public async Task DroppedConnection_IsReopened_AndCatchesUp()
    {
        Api.DropWatches();
        Api.Seed("jobs", ManagedJob("after-drop"));
        Api.AddEvent("Job", "after-drop", "Created", "made while the watch was down");

        await CacheEqualsServerAsync("after a dropped connection");
        Assert.Null(_cluster.Cache.State.Error);
    }

    [Fact]
    public async Task MalformedLine_IsSkipped_AndTheWatchGoesOn()
    {
        // After an event: the client reads a watch's first line eagerly and fails the call on it; later lines are skipped.
        Api.Seed("jobs", ManagedJob("before-garbage"));
        await CacheEqualsServerAsync("the first event");
        Api.SendMalformedLine();
        Api.Seed("jobs", ManagedJob("after-garbage"));

        await CacheEqualsServerAsync("after a malformed line");
        Assert.Equal(1, Api.Requests("list jobs"));
        Assert.Equal(1, Api.Requests("watch jobs"));
    }

    [Fact]
    public async Task RefusedList_ShowsASentence_AndRecoversByItself()
    {
        Api.Forbid("list", "pods");
        Api.Forbid("watch", "pods");
        Api.DropWatches();

        await Eventually.WaitAsync(() => _cluster.Cache.State.Error is not null, Wait, "the error in the cluster state");
        Assert.Contains("may not list and watch pods in namespace piops-test", _cluster.Cache.State.Error);

        Api.Allow("list", "pods");
        Api.Allow("watch", "pods");
        await Eventually.WaitAsync(() => _cluster.Cache.State.Error is null, Wait, () => $"recovery ({_cluster.Cache.State.Error})");
        await CacheEqualsServerAsync("after recovery");
    }

    [Fact]
    public async Task Subscribers_DoNotAddApiRequests()
    {
        var seen = new int[20];
        var subscriptions = Enumerable.Range(0, 20).Select(i => _cluster.Runtime.Subscribe(s =>
        {
            if (s.Jobs.Any(j => j.Name == "for-pages"))
            {
                Interlocked.Exchange(ref seen[i], 1);
            }

            return Task.CompletedTask;
        })).ToList();
        int before = Api.TotalRequests;

        Api.Seed("jobs", ManagedJob("for-pages"));

        await Eventually.WaitAsync(() => seen.All(s => s == 1), Wait, "every subscriber saw the new Job");
        Assert.Equal(before, Api.TotalRequests);
        Assert.Equal(6, Api.OpenWatches);
        subscriptions.ForEach(s => s.Dispose());
    }
}

/// <summary>When the API cannot be reached at all, the cluster state says so in a sentence.</summary>
public sealed class UnreachableApiFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task UnreachableApi_IsReportedWithItsAddress()
    {
        string dir = Directory.CreateTempSubdirectory("piops-k8s-").FullName;
        try
        {
            int closed = FreePort.Next();
            string kubeconfig = Path.Combine(dir, "kubeconfig");
            File.WriteAllText(kubeconfig, $"""
                apiVersion: v1
                kind: Config
                clusters:
                - name: gone
                  cluster:
                    server: http://127.0.0.1:{closed}
                users:
                - name: u
                  user:
                    token: t
                contexts:
                - name: gone-context
                  context:
                    cluster: gone
                    user: u
                current-context: gone-context
                """);
            await using var app = await DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
            {
                ["Kubernetes:Mode"] = "Kubernetes",
                ["Kubernetes:KubeconfigPath"] = kubeconfig,
            });
            var runtime = (KubernetesRuntime)((WorkloadActions)app.Workloads).Backend;

            await Eventually.WaitAsync(() => runtime.State.Error is not null, TimeSpan.FromSeconds(30), "an error in the cluster state");

            Assert.Contains($"The Kubernetes API at http://127.0.0.1:{closed} cannot be reached", runtime.State.Error);
            Assert.Equal("Kubernetes cluster gone, context gone-context, namespace default", runtime.Description);
            Assert.False(runtime.State.Synced);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
