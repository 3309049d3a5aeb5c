using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Contract;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// The cluster the kubeconfig contract runs on. With PIOPS_CONTRACT_KUBECONFIG set: that cluster (kind, minikube, a
/// staging cluster), in the throwaway namespace PIOPS_CONTRACT_NAMESPACE where the chart is installed, its workers
/// Deployment PIOPS_CONTRACT_DEPLOYMENT (default piops-worker, the chart's name for release piops). Without it: a fresh
/// API double, reached through a kubeconfig exactly as a real cluster is (bench/cluster-contract.sh, docs/deploy.md).
/// The workers' replicas and autoscalers found at the start are put back at the end.
/// </summary>
public sealed class ContractCluster : IAsyncLifetime
{
    public const string KubeconfigVariable = "PIOPS_CONTRACT_KUBECONFIG";
    public const string NamespaceVariable = "PIOPS_CONTRACT_NAMESPACE";
    public const string DeploymentVariable = "PIOPS_CONTRACT_DEPLOYMENT";

    private string? _dir;
    private string? _replicasFound;
    private List<JsonObject> _autoscalersFound = [];

    /// <summary>The double, when no cluster was named; null on a real cluster.</summary>
    public KubeApiDouble? Double { get; private set; }

    public string KubeconfigPath { get; private set; } = "";

    public string Namespace { get; private set; } = "";

    public string WorkersDeployment { get; private set; } = "";

    public Kubectl Kubectl { get; private set; } = default!;

    public string Describe() => Double is null ? $"the cluster of {KubeconfigPath}, namespace {Namespace}" : "the API double";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(KubeconfigVariable) is { Length: > 0 } kubeconfig)
        {
            if (!File.Exists(kubeconfig))
            {
                throw new InvalidOperationException($"{KubeconfigVariable} names {kubeconfig}, which does not exist.");
            }

            KubeconfigPath = kubeconfig;
            Namespace = Environment.GetEnvironmentVariable(NamespaceVariable) is { Length: > 0 } ns
                ? ns
                : throw new InvalidOperationException($"{KubeconfigVariable} is set but {NamespaceVariable} is not: name the throwaway namespace where the chart is installed.");
            WorkersDeployment = Environment.GetEnvironmentVariable(DeploymentVariable) is { Length: > 0 } d ? d : "piops-worker";
        }
        else
        {
            Double = await KubeApiDouble.StartAsync();
            _dir = Directory.CreateTempSubdirectory("piops-contract-").FullName;
            KubeconfigPath = Double.WriteKubeconfig(_dir);
            Namespace = KubeApiDouble.Namespace;
            WorkersDeployment = "pi-worker";
        }

        Kubectl = new Kubectl(KubeconfigPath);
        var found = await Kubectl.TryRunAsync("-n", Namespace, "get", "deployment", WorkersDeployment, "-o", "jsonpath={.spec.replicas}");
        if (found.ExitCode != 0)
        {
            throw new InvalidOperationException($"No workers Deployment {WorkersDeployment} in {Describe()} (install the chart there, or set {DeploymentVariable}): {found.Err.Trim()}");
        }

        _replicasFound = found.Out.Trim();
        _autoscalersFound = await WorkersAutoscalersAsync();
    }

    /// <summary>The autoscalers (HPAs) whose target is the workers Deployment, as stored.</summary>
    public async Task<List<JsonObject>> WorkersAutoscalersAsync()
    {
        var list = JsonNode.Parse(await Kubectl.RunAsync("-n", Namespace, "get", "horizontalpodautoscalers.autoscaling", "-o", "json"))!;
        return list["items"]!.AsArray().Select(i => i!.AsObject())
            .Where(h => h["spec"]?["scaleTargetRef"]?["name"]?.GetValue<string>() == WorkersDeployment).ToList();
    }

    /// <summary>
    /// Before each fact, as a shared cluster needs: the contract's Jobs and CronJobs of earlier facts (or runs) deleted
    /// and gone, and no autoscaler on the workers.
    /// </summary>
    public async Task TidyAsync()
    {
        foreach (var h in await WorkersAutoscalersAsync())
        {
            await Kubectl.RunAsync("-n", Namespace, "delete", "horizontalpodautoscalers.autoscaling", h["metadata"]!["name"]!.GetValue<string>(), "--wait=false");
        }

        var left = await ContractObjectsAsync();
        if (left.Count > 0)
        {
            await Kubectl.RunAsync(["-n", Namespace, "delete", "--cascade=background", "--wait=false", .. left]);
        }

        await Eventually.WaitAsync(async () => (await ContractObjectsAsync()).Count == 0 && (await WorkersAutoscalersAsync()).Count == 0,
            TimeSpan.FromSeconds(90), "the contract's Jobs, CronJobs and autoscalers of earlier facts gone");
    }

    private async Task<List<string>> ContractObjectsAsync() =>
        (await Kubectl.RunAsync("-n", Namespace, "get", "jobs.batch,cronjobs.batch", "-o", "name"))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(n => n.Split('/').Last().StartsWith("contract-", StringComparison.Ordinal)).ToList();

    public async Task DisposeAsync()
    {
        try
        {
            if (Double is null)
            {
                // A real cluster is left as it was found: the contract's objects deleted, the replicas and autoscalers back.
                await TidyAsync();
                foreach (var h in _autoscalersFound)
                {
                    var manifest = new JsonObject
                    {
                        ["apiVersion"] = h["apiVersion"]?.DeepClone() ?? "autoscaling/v2",
                        ["kind"] = "HorizontalPodAutoscaler",
                        ["metadata"] = new JsonObject
                        {
                            ["name"] = h["metadata"]!["name"]!.DeepClone(),
                            ["labels"] = h["metadata"]!["labels"]?.DeepClone(),
                            ["annotations"] = h["metadata"]!["annotations"]?.DeepClone(),
                        },
                        ["spec"] = h["spec"]!.DeepClone(),
                    };
                    string file = Path.Combine(Path.GetTempPath(), $"piops-contract-hpa-{Guid.NewGuid():N}.json");
                    await File.WriteAllTextAsync(file, manifest.ToJsonString());
                    await Kubectl.RunAsync("-n", Namespace, "create", "-f", file);
                    File.Delete(file);
                }

                await Kubectl.RunAsync("-n", Namespace, "scale", "deployment", WorkersDeployment, $"--replicas={_replicasFound}");
            }
        }
        finally
        {
            Kubectl?.Dispose();
            if (Double is not null)
            {
                await Double.DisposeAsync();
                Directory.Delete(_dir!, recursive: true);
            }
        }
    }
}

/// <summary>
/// The workload contract through a kubeconfig, as an operator runs it on their own cluster: the dashboard reaches the
/// cluster only through the kubeconfig, status moves as controllers move it (`kubectl patch --subresource=status`),
/// and one cluster serves every fact, tidied between them. In ./test.sh it runs on the API double; with
/// PIOPS_CONTRACT_KUBECONFIG on a real cluster (bench/cluster-contract.sh). <see cref="KubernetesRuntimeContractFacts"/>
/// is the same contract on a fresh double per fact.
/// </summary>
public sealed class ClusterContractFacts(ContractCluster cluster, RedisServer server)
    : WorkloadRuntimeContract, IClassFixture<ContractCluster>, IClassFixture<RedisServer>
{
    private DashboardApp _app = default!;

    protected override IWorkloadRuntime Runtime => _app.Services.GetRequiredService<KubernetesNamespaces>().Default.Actions;

    public override async Task InitializeAsync()
    {
        await cluster.TidyAsync();
        _app = await DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
        {
            ["Kubernetes:Mode"] = "Kubernetes",
            ["Kubernetes:KubeconfigPath"] = cluster.KubeconfigPath,
            ["Kubernetes:Namespace"] = cluster.Namespace,
            ["Kubernetes:WorkersDeployment"] = cluster.WorkersDeployment,
        });
        var cache = _app.Services.GetRequiredService<ClusterCache>();
        await Eventually.WaitAsync(() => cache.State.Synced, TimeSpan.FromSeconds(60), () => $"the cache to list every kind on {cluster.Describe()} ({cache.State})");
    }

    // The CronJob controller writes status.lastScheduleTime when a run starts (cronjob_controllerv2.go), through the
    // status subresource; kubectl writes it the same way here.
    protected override Task MoveCronJobStatusAsync(string name) =>
        cluster.Kubectl.RunAsync("-n", cluster.Namespace, "patch", "cronjobs.batch", name, "--subresource=status", "--type=merge",
            "-p", new JsonObject { ["status"] = new JsonObject { ["lastScheduleTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ") } }.ToJsonString());

    // The HPA controller's status write after a scaling (horizontal.go, updateStatusIfNeeded), made with kubectl.
    protected override async Task MoveAutoscalerStatusAsync()
    {
        var hpa = Assert.Single(await cluster.WorkersAutoscalersAsync());
        await cluster.Kubectl.RunAsync("-n", cluster.Namespace, "patch", "horizontalpodautoscalers.autoscaling", hpa["metadata"]!["name"]!.GetValue<string>(),
            "--subresource=status", "--type=merge", "-p", new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["currentReplicas"] = 1,
                    ["desiredReplicas"] = 2,
                    ["lastScaleTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                },
            }.ToJsonString());
    }

    public override async Task DisposeAsync() => await _app.DisposeAsync();
}
