using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Tests.Components;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Components.Controls;
using PiOps.Web.Audit;
using PiOps.Web.Kubernetes;
using PiOps.Web.Logs;
using PiOps.Web.Security;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>Several namespaces: one cache and runtime each, a choice per circuit, and actions in the chosen one.</summary>
public sealed class NamespacesFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Other = "team-b";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    public async Task InitializeAsync()
    {
        var api = await KubeApiDouble.StartAsync();
        api.AddNamespace(Other, workers: 1);
        // As an operator installs it for two namespaces: the chart's Role and RoleBinding in each.
        api.UseRbac(KubeApiDouble.ChartRbac(Other), KubeApiDouble.ChartReleaseNamespace);
        _cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Kubernetes:Namespaces:0"] = KubeApiDouble.Namespace,
            ["Kubernetes:Namespaces:1"] = Other,
            ["Kubernetes:WorkerImage"] = "registry.example/piops-worker:2.0",
        }, api);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JobSpec Spec(string name) =>
        new(name, JobCommand.Worker, 1, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string>());

    private static IServiceScope OperatorScope(IServiceProvider services)
    {
        var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<UserContext>().User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "olga"), new Claim(ClaimTypes.Role, Roles.Operator)], "test"));
        return scope;
    }

    [Fact]
    public async Task EachNamespace_ShowsOnlyItsOwnJobs_AndAnActionAfterASwitch_HappensInTheChosenOne()
    {
        var namespaces = _cluster.App.Services.GetRequiredService<KubernetesNamespaces>();
        Assert.Equal([KubeApiDouble.Namespace, Other], namespaces.Names);
        await Eventually.WaitAsync(() => namespaces.All.All(n => n.Cache.State.Synced), Wait, "every namespace's cache listed");
        using var scope = OperatorScope(_cluster.App.Services);
        var selection = scope.ServiceProvider.GetRequiredService<WorkloadSelection>();
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();
        var seen = new List<WorkloadSnapshot>();
        using var subscription = runtime.Subscribe(s =>
        {
            lock (seen)
            {
                seen.Add(s);
            }

            return Task.CompletedTask;
        });

        await runtime.CreateJobAsync(Spec("in-default"));
        await selection.SelectAsync(Other);
        await runtime.CreateJobAsync(Spec("in-b"));

        Assert.NotNull(Api.Get("jobs", "in-default"));
        Assert.Null(Api.Get("jobs", "in-default", Other));
        Assert.Null(Api.Get("jobs", "in-b"));
        Assert.Equal("olga", Api.Get("jobs", "in-b", Other)!["metadata"]!["annotations"]![KubernetesRuntime.RequestedBy]!.GetValue<string>());
        var b = namespaces.Get(Other);
        var a = namespaces.Get(null);
        await Eventually.WaitAsync(() => b.Current.Jobs.Any(j => j.Name == "in-b") && a.Current.Jobs.Any(j => j.Name == "in-default"), Wait, "each Job in its namespace's view");
        Assert.Equal(["in-b"], b.Current.Jobs.Select(j => j.Name));
        Assert.Equal(["in-default"], a.Current.Jobs.Select(j => j.Name));
        Assert.Single(b.Current.Workers.Pods);
        Assert.Equal(2, a.Current.Workers.Pods.Count);
        // The circuit's face follows its choice: the view, the description and the subscription.
        Assert.Equal(["in-b"], runtime.Current.Jobs.Select(j => j.Name));
        Assert.EndsWith($"namespace {Other}", runtime.Description);
        await Eventually.WaitAsync(() =>
        {
            lock (seen)
            {
                return seen.Any(s => s.Jobs.Any(j => j.Name == "in-b"));
            }
        }, Wait, "the subscription to report namespace B's Job");
        var audit = await _cluster.App.Services.GetRequiredService<AuditLog>().ReadAsync(10);
        Assert.Contains(audit, e => e is { Action: "create job", Target: "in-b", Succeeded: true } && e.Parameters.EndsWith($"namespace={Other}", StringComparison.Ordinal));
        Assert.Contains(audit, e => e is { Target: "in-default" } && e.Parameters.EndsWith($"namespace={KubeApiDouble.Namespace}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Banner_ShowsTheChosenNamespacesOutage_AndFollowsASwitch()
    {
        await using var ctx = new BunitContext();
        ctx.AddTestServices();
        ctx.Services.AddSingleton<IWorkloadBackends>(_cluster.App.Services.GetRequiredService<KubernetesNamespaces>());
        ctx.Services.AddScoped<WorkloadSelection>();
        var banner = ctx.Render<ClusterBanner>();
        Assert.Empty(banner.FindAll("[data-testid=cluster-banner]"));

        Api.Forbid("list", "pods");
        Api.Forbid("watch", "pods");
        Api.DropWatches();

        banner.WaitForAssertion(() => Assert.Contains($"namespace {KubeApiDouble.Namespace})", banner.Find("[data-testid=cluster-banner]").TextContent), Wait);
        Assert.Contains($"may not list and watch pods in namespace {KubeApiDouble.Namespace}", banner.Find("[data-testid=cluster-banner]").TextContent);
        await ctx.Services.GetRequiredService<WorkloadSelection>().SelectAsync(Other);
        banner.WaitForAssertion(() => Assert.Contains($"may not list and watch pods in namespace {Other}", banner.Find("[data-testid=cluster-banner]").TextContent), Wait);

        Api.Allow("list", "pods");
        Api.Allow("watch", "pods");
        banner.WaitForAssertion(() => Assert.Empty(banner.FindAll("[data-testid=cluster-banner]")), Wait);
    }

    [Fact]
    public async Task Selection_RefusesANamespaceThatIsNotOperated_AndStaysWhereItWas()
    {
        using var scope = OperatorScope(_cluster.App.Services);
        var selection = scope.ServiceProvider.GetRequiredService<WorkloadSelection>();

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => selection.SelectAsync("kube-system"));

        Assert.Equal($"The dashboard does not operate namespace \"kube-system\": choose one of {KubeApiDouble.Namespace}, {Other} (Kubernetes:Namespaces).", ex.Message);
        Assert.Equal(KubeApiDouble.Namespace, selection.Name);
    }

    [Fact]
    public async Task TheApiLoad_IsSixWatchesPerNamespace_WhateverTheNumberOfCircuits()
    {
        await Eventually.WaitAsync(() => Api.OpenWatches == 12, Wait, () => $"twelve open watches (now {Api.OpenWatches})");
        var scopes = Enumerable.Range(0, 20).Select(_ => OperatorScope(_cluster.App.Services)).ToList();
        var subscriptions = new List<IDisposable>();
        foreach (var scope in scopes)
        {
            await scope.ServiceProvider.GetRequiredService<WorkloadSelection>().SelectAsync(Other);
            subscriptions.Add(scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>().Subscribe(_ => Task.CompletedTask));
        }

        int lists = Api.Requests("list jobs");
        Assert.Equal(12, Api.OpenWatches);
        Assert.Equal(2, lists);
        subscriptions.ForEach(s => s.Dispose());
        scopes.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task TheLogsOfAPodInTheChosenNamespace_AreTailedFromThatNamespace()
    {
        var namespaces = _cluster.App.Services.GetRequiredService<KubernetesNamespaces>();
        await Eventually.WaitAsync(() => namespaces.All.All(n => n.Cache.State.Synced), Wait, "every namespace's cache listed");
        using var scope = OperatorScope(_cluster.App.Services);
        await scope.ServiceProvider.GetRequiredService<WorkloadSelection>().SelectAsync(Other);
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();
        await Eventually.WaitAsync(() => runtime.Current.Workers.Pods.Count == 1, Wait, "team-b's one worker pod");
        string pod = runtime.Current.Workers.Pods[0].Name;
        var tailer = _cluster.App.Services.GetRequiredService<PiOps.Web.Logs.LogTailer>();

        using var session = new PiOps.Web.Logs.LogSession(runtime, tailer, PiOps.Web.Logs.LogTarget.Parse("deployment/pi-worker")!, 1_000, 100);
        Api.WriteLog(pod, "got task: 7 (in team-b)");

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "got task: 7 (in team-b)"), Wait,
            () => string.Join(" | ", session.Pods.Select(p => $"{p.Name} {p.Problem}")) + " | " + string.Join(" | ", session.Lines.Select(l => l.Text)));
        Assert.Equal([pod], session.Pods.Select(p => p.Name));
        Assert.All(session.Pods, p => Assert.Null(p.Problem));
    }

    [Fact]
    public async Task Hub_StreamLogsIn_TailsTheNamedNamespace_AndRefusesOneThatIsNotOperated()
    {
        var namespaces = _cluster.App.Services.GetRequiredService<KubernetesNamespaces>();
        await Eventually.WaitAsync(() => namespaces.All.All(n => n.Cache.State.Synced), Wait, "every namespace's cache listed");
        string pod = namespaces.Get(Other).Current.Workers.Pods.Single().Name;
        string defaultPod = namespaces.Get(null).Current.Workers.Pods[0].Name;
        await using var hub = new HubConnectionBuilder().WithUrl(_cluster.App.BaseAddress + "/hubs/logs").Build();
        await hub.StartAsync();
        using var cts = new CancellationTokenSource(Wait);
        var received = new List<LogLine>();
        var reading = Task.Run(async () =>
        {
            await foreach (var line in hub.StreamAsync<LogLine>("StreamLogsIn", Other, "deployment/pi-worker", 10, cts.Token))
            {
                received.Add(line);
                if (line.Text == "got task: 8 (in team-b)")
                {
                    return;
                }
            }
        });

        // Written until the stream has attached, since the stream starts after the log request is open.
        await Eventually.WaitAsync(async () =>
        {
            Api.WriteLog(defaultPod, "got task: 9 (in the default namespace)");
            Api.WriteLog(pod, "got task: 8 (in team-b)");
            return await reading.EndsWithinAsync(TimeSpan.FromMilliseconds(200));
        }, Wait, "team-b's line through the hub");
        await reading;

        Assert.All(received, l => Assert.Equal(pod, l.Pod));
        var error = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in hub.StreamAsync<LogLine>("StreamLogsIn", "kube-system", "deployment/pi-worker", 10, cts.Token))
            {
            }
        });
        Assert.Contains("does not operate namespace \"kube-system\"", error.Message);
    }

    [Fact]
    public void ThePagesJobPreview_IsTheManifestTheChosenNamespacesRuntimeSends()
    {
        using var scope = OperatorScope(_cluster.App.Services);
        var runtime = scope.ServiceProvider.GetRequiredService<IWorkloadRuntime>();
        var spec = JobSpec.Templates[0].Spec;
        var backend = _cluster.App.Services.GetRequiredService<KubernetesNamespaces>().Default.Runtime;

        string yaml = runtime.JobManifest(spec);

        // Through the guard, the cluster's rendering (Kubernetes:RedisHost, the service's name), not the local one.
        Assert.Equal(k8s.KubernetesYaml.Serialize(backend.JobFor(spec)).Trim(), yaml.Trim());
        Assert.Contains("image: registry.example/piops-worker:2.0", yaml);
        Assert.Equal(backend.Pod, runtime.Pod);
        // The CronJob preview too: Kubernetes:WorkerImage, not the book's image.
        var cron = k8s.KubernetesYaml.Deserialize<k8s.Models.V1CronJob>(runtime.CronJobManifest(CronJobSpec.BookAddWork), strict: true);
        Assert.Equal("registry.example/piops-worker:2.0", cron.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image);
    }

}

/// <summary>Kubernetes:Namespaces at start-up: every problem at once, with a sentence.</summary>
public sealed class NamespacesOptionsFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public void Validate_ReportsBadNamesEmptyEntriesAndDuplicates_AtOnce()
    {
        var errors = new KubernetesOptions { Namespaces = ["team-a", "Team_B", "", "team-a", new string('a', 64)] }.Validate().ToList();

        Assert.Equal(
        [
            "Kubernetes:Namespaces:1 \"Team_B\" is not a valid namespace name (DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit).",
            "Kubernetes:Namespaces:2 is empty: name a namespace, or remove the entry.",
            $"Kubernetes:Namespaces:4 \"{new string('a', 64)}\" is not a valid namespace name (DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit).",
            "Kubernetes:Namespaces lists \"team-a\" 2 times: list each namespace once.",
        ], errors);
    }

    [Fact]
    public void Validate_RefusesADefaultNamespaceOutsideTheList()
    {
        var error = Assert.Single(new KubernetesOptions { Namespace = "prod", Namespaces = ["team-a", "team-b"] }.Validate());

        Assert.Equal("Kubernetes:Namespace \"prod\" is not one of Kubernetes:Namespaces (team-a, team-b): list it there too, or leave Kubernetes:Namespace empty to make the first listed the default.", error);
        Assert.Empty(new KubernetesOptions { Namespace = "team-b", Namespaces = ["team-a", "team-b"] }.Validate());
    }

    [Fact]
    public void Validate_RefusesMoreNamespacesThanTheBound()
    {
        var error = Assert.Single(new KubernetesOptions { Namespaces = [.. Enumerable.Range(0, 11).Select(i => $"ns-{i}")] }.Validate());

        Assert.StartsWith("Kubernetes:Namespaces lists 11 namespaces; at most 10", error);
    }

    [Fact]
    public void TheDefault_IsTheNamedNamespace_ElseTheFirstListed_AndComesFirst()
    {
        Assert.Equal(["team-b", "team-a"], new KubernetesOptions { Namespace = "team-b", Namespaces = ["team-a", "team-b"] }.NamespacesWith("team-b"));
        Assert.Equal(["only"], new KubernetesOptions().NamespacesWith("only"));
    }

    [Fact]
    public async Task Connect_MakesTheFirstListedNamespaceTheDefault_WhenNoneIsNamed()
    {
        await using var api = await KubeApiDouble.StartAsync();
        string dir = Directory.CreateTempSubdirectory("piops-k8s-").FullName;
        try
        {
            string path = api.WriteKubeconfig(dir);

            var target = KubernetesConnection.Connect(new KubernetesOptions { KubeconfigPath = path, Namespaces = ["team-a", "team-b"] });

            Assert.Equal("team-a", target.Namespace);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Start_RefusesABadList_WithTheSentence()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
        {
            ["Kubernetes:Mode"] = "Local",
            ["Kubernetes:Namespaces:0"] = "ok",
            ["Kubernetes:Namespaces:1"] = "Not_OK",
        }));

        Assert.Contains("Kubernetes:Namespaces:1 \"Not_OK\" is not a valid namespace name", ex.ToString());
    }
}
