using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Contract;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>The dashboard configured on the API double through a kubeconfig, composed as Program.cs does.</summary>
public sealed class ClusterDashboard : IAsyncDisposable
{
    private readonly string _dir;

    private ClusterDashboard(KubeApiDouble api, DashboardApp app, string dir)
    {
        Api = api;
        App = app;
        _dir = dir;
    }

    public KubeApiDouble Api { get; }

    public DashboardApp App { get; }

    /// <summary>The actions over the default namespace's runtime, as the guard gets them.</summary>
    public WorkloadActions Runtime => App.Services.GetRequiredService<KubernetesNamespaces>().Default.Actions;

    /// <summary>The default namespace's runtime itself: its primitive calls, logs and metrics.</summary>
    public KubernetesRuntime Backend => App.Services.GetRequiredService<KubernetesRuntime>();

    public ClusterCache Cache => App.Services.GetRequiredService<ClusterCache>();

    /// <param name="services">Replaces services after the app's own, e.g. the clock (see <see cref="DashboardApp.StartAsync"/>).</param>
    /// <param name="synced">Wait until the cache has listed every kind (false where a test keeps a kind from being listed).</param>
    public static async Task<ClusterDashboard> StartAsync(TestRedisServer redis, IDictionary<string, string?>? extra = null, KubeApiDouble? api = null,
        Action<IServiceCollection>? services = null, bool synced = true)
    {
        api ??= await KubeApiDouble.StartAsync();
        string dir = Directory.CreateTempSubdirectory("piops-k8s-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Kubernetes:Mode"] = "Kubernetes",
            ["Kubernetes:KubeconfigPath"] = api.WriteKubeconfig(dir),
            ["Kubernetes:WatchTimeout"] = "00:01:00",
            ["Logging:LogLevel:PiOps.Web.Kubernetes"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        var app = await DashboardApp.StartAsync(redis, TestRedisServer.NewQueueName(), settings, services);
        var dashboard = new ClusterDashboard(api, app, dir);
        if (!synced)
        {
            return dashboard;
        }

        await Eventually.WaitAsync(() => dashboard.Cache.State.Synced, TimeSpan.FromSeconds(30), () => $"the cache to list every kind ({dashboard.Cache.State})");
        return dashboard;
    }

    /// <summary>
    /// The name of the first worker pod, once the runtime's snapshot has its pods: the snapshot is made from the cache
    /// after its lists, so it can come a moment after <see cref="StartAsync"/> returns.
    /// </summary>
    public async Task<string> FirstWorkerPodAsync()
    {
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Pods.Count > 0, TimeSpan.FromSeconds(30), "the worker pods in the snapshot");
        return Runtime.Current.Workers.Pods[0].Name;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>The workload contract on the Kubernetes runtime, over the API double.</summary>
public sealed class KubernetesRuntimeContractFacts(RedisServer server) : WorkloadRuntimeContract, IClassFixture<RedisServer>
{
    private ClusterDashboard _cluster = default!;

    protected override IWorkloadRuntime Runtime => _cluster.Runtime;

    public override async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    // As the CronJob controller does when a run starts (pkg/controller/cronjob/cronjob_controllerv2.go updates
    // status.lastScheduleTime and status.active through the status subresource).
    protected override Task MoveCronJobStatusAsync(string name)
    {
        _cluster.Api.Mutate("cronjobs", name, c =>
            c["status"] = new System.Text.Json.Nodes.JsonObject { ["lastScheduleTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ") });
        return Task.CompletedTask;
    }

    // As the HPA controller does after a scaling (pkg/controller/podautoscaler/horizontal.go, updateStatusIfNeeded).
    protected override Task MoveAutoscalerStatusAsync()
    {
        string name = Assert.Single(_cluster.Api.Versions("horizontalpodautoscalers")).Key;
        _cluster.Api.Mutate("horizontalpodautoscalers", name, h => h["status"] = new System.Text.Json.Nodes.JsonObject
        {
            ["currentReplicas"] = 1,
            ["desiredReplicas"] = 2,
            ["lastScaleTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        });
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync() => await _cluster.DisposeAsync();
}
