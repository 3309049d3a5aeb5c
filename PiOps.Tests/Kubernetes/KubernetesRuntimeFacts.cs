using k8s;
using k8s.Models;
using PiOps.Web;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>What only the Kubernetes runtime does: kubectl's exact calls, the API's errors as sentences, YAML, status.</summary>
public sealed class KubernetesRuntimeFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    private WorkloadActions Runtime => _cluster.Runtime;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JobSpec Spec(string name) =>
        new(name, JobCommand.Worker, 1, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string>());

    private Task<JobView> WaitForJobAsync(string name, Func<JobView, bool> condition, string what) =>
        Task.Run(async () =>
        {
            JobView? found = null;
            await Eventually.WaitAsync(() => (found = Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)) is { } j && condition(j), Wait,
                () => $"{what} (now: {Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)})");
            return found!;
        });

    internal const string ValidYaml = """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: pasted
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: pi-container
                image: piops-worker:0.1.0
                args: ["add-tasks", "--count", "7"]
        """;

    [Fact]
    public void Description_NamesTheClusterContextAndNamespace()
    {
        Assert.Equal($"Kubernetes cluster double-cluster, context double, namespace {KubeApiDouble.Namespace}", Runtime.Description);
        Assert.False(Runtime.IsLocal);
    }

    [Fact]
    public async Task Scale_PatchesTheScaleSubresource()
    {
        await Runtime.ScaleAsync(3);

        Assert.Equal(1, Api.Requests("patch deployments/scale"));
        Assert.Equal(3, Api.Get("deployments", "pi-worker")!["spec"]!["replicas"]!.GetValue<int>());
        await Eventually.WaitAsync(() => Runtime.Current.Workers is { Desired: 3, Ready: 3, Pods.Count: 3 }, Wait, "three ready pods");
    }

    [Fact]
    public async Task CreateJob_SendsTheObjectThePreviewShows()
    {
        var spec = JobSpec.Templates[0].Spec;

        await Runtime.CreateJobAsync(spec);

        var stored = KubernetesJson.Deserialize<V1Job>(Api.Get("jobs", "jobworker")!.ToJsonString());
        var preview = KubernetesYaml.Deserialize<V1Job>(JobYaml.Render(Runtime.JobFor(spec)), strict: true);
        Assert.Equal(preview.Spec.Template.Spec.Containers[0].Env.Select(e => (e.Name, e.Value)), stored.Spec.Template.Spec.Containers[0].Env.Select(e => (e.Name, e.Value)));
        Assert.Equal("true", stored.Metadata.Labels["piops.io/managed"]);
        Assert.Equal(preview.Spec.Parallelism, stored.Spec.Parallelism);
        Assert.Contains(stored.Spec.Template.Spec.Containers[0].Env, e => e is { Name: "REDIS_HOST", Value: "redis" });
    }

    [Fact]
    public async Task CreateCronJob_SendsTheObjectThePreviewShows()
    {
        var spec = CronJobSpec.BookAddWork with { TimeZone = "Europe/Paris" };

        await Runtime.CreateCronJobAsync(spec);

        var stored = KubernetesJson.Deserialize<V1CronJob>(Api.Get("cronjobs", spec.Name)!.ToJsonString());
        var preview = KubernetesYaml.Deserialize<V1CronJob>(Runtime.CronJobManifest(spec), strict: true);
        Assert.Equal(preview.Spec.Schedule, stored.Spec.Schedule);
        Assert.Equal("Europe/Paris", stored.Spec.TimeZone);
        Assert.Equal(preview.Spec.ConcurrencyPolicy, stored.Spec.ConcurrencyPolicy);
        var (sent, shown) = (stored.Spec.JobTemplate.Spec.Template.Spec.Containers[0], preview.Spec.JobTemplate.Spec.Template.Spec.Containers[0]);
        Assert.Equal(shown.Image, sent.Image);
        Assert.Equal(shown.Args, sent.Args);
        Assert.Equal(shown.Env.Select(e => (e.Name, e.Value)), sent.Env.Select(e => (e.Name, e.Value)));
        Assert.Equal("true", stored.Metadata.Labels["piops.io/managed"]);
    }

    [Fact]
    public async Task Rerun_SendsTheJobWithoutServerSetFields()
    {
        await Runtime.CreateJobAsync(Spec("again"));
        string firstUid = Api.Get("jobs", "again")!["metadata"]!["uid"]!.GetValue<string>();

        await Runtime.RerunJobAsync("again");

        var second = Api.Get("jobs", "again")!;
        Assert.NotEqual(firstUid, second["metadata"]!["uid"]!.GetValue<string>());
        // The server generated a fresh selector for the new uid; the old one would have been refused (422).
        Assert.Equal(second["metadata"]!["uid"]!.GetValue<string>(), second["spec"]!["selector"]!["matchLabels"]!["batch.kubernetes.io/controller-uid"]!.GetValue<string>());
        Assert.Equal(1, Api.Requests("delete jobs"));
        // The first create, the re-run's dry run, and its create.
        Assert.Equal(3, Api.Requests("create jobs"));
        Assert.Equal(1, Api.DryRuns("jobs"));
    }

    [Fact]
    public void Recreate_DropsWhatTheServerSet()
    {
        var job = KubernetesJson.Deserialize<V1Job>("""
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","uid":"u1","resourceVersion":"9","creationTimestamp":"2025-01-01T00:00:00Z",
             "labels":{"piops.io/managed":"true","controller-uid":"u1","batch.kubernetes.io/controller-uid":"u1","job-name":"j","batch.kubernetes.io/job-name":"j"},
             "managedFields":[{"manager":"kubectl"}]},
             "spec":{"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"u1"}},
              "template":{"metadata":{"labels":{"controller-uid":"u1","batch.kubernetes.io/controller-uid":"u1","job-name":"j","batch.kubernetes.io/job-name":"j","pod":"pi"}},
               "spec":{"restartPolicy":"Never","containers":[{"name":"pi-container","image":"i"}]}}},
             "status":{"succeeded":1}}
            """);

        var again = Manifests.Recreate(job);

        Assert.Null(again.Metadata.Uid);
        Assert.Null(again.Metadata.ResourceVersion);
        Assert.Null(again.Metadata.CreationTimestamp);
        Assert.Null(again.Metadata.ManagedFields);
        Assert.Null(again.Status);
        Assert.Null(again.Spec.Selector);
        Assert.Equal(new Dictionary<string, string> { ["piops.io/managed"] = "true" }, again.Metadata.Labels);
        Assert.Equal(new Dictionary<string, string> { ["pod"] = "pi" }, again.Spec.Template.Metadata.Labels);
    }

    [Fact]
    public async Task RunNow_CreatesTheJobKubectlWould()
    {
        await Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork with { Suspend = true });

        string name = await Runtime.RunCronJobNowAsync("addwork");

        var job = KubernetesJson.Deserialize<V1Job>(Api.Get("jobs", name)!.ToJsonString());
        Assert.Equal("manual", job.Metadata.Annotations["cronjob.kubernetes.io/instantiate"]);
        var owner = Assert.Single(job.Metadata.OwnerReferences);
        Assert.Equal(("batch/v1", "CronJob", "addwork", true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Controller ?? false));
        Assert.Equal(Api.Get("cronjobs", "addwork")!["metadata"]!["uid"]!.GetValue<string>(), owner.Uid);
        await WaitForJobAsync(name, j => j.CronJob == "addwork", "the run shown under its CronJob");
    }

    [Fact]
    public async Task Delete_UsesBackgroundPropagation_WhereTheApiDefaultWouldOrphanThePods()
    {
        await Runtime.CreateJobAsync(Spec("orphaned") with { Parallelism = 2 });
        await Runtime.CreateJobAsync(Spec("cascaded") with { Parallelism = 2 });
        await WaitForJobAsync("cascaded", j => j.Pods.Count == 2, "two pods");
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Api.Address });

        // A plain delete, as the API defaults it for batch/v1 Jobs: the pods stay.
        await client.BatchV1.DeleteNamespacedJobAsync("orphaned", KubeApiDouble.Namespace);
        await Runtime.DeleteJobAsync("cascaded");

        // The orphans stay, running, without their owner; the cascaded pods are deleted gracefully at once and go when
        // the kubelet has stopped them.
        var orphans = Api.Versions("pods").Keys.Where(p => p.StartsWith("orphaned-", StringComparison.Ordinal)).Select(p => Api.Get("pods", p)!).ToList();
        Assert.Equal(2, orphans.Count);
        Assert.All(orphans, p => Assert.Null(p["metadata"]!["deletionTimestamp"]));
        Assert.All(orphans, p => Assert.Empty(p["metadata"]!["ownerReferences"]!.AsArray()));
        Assert.All(Api.Versions("pods").Keys.Where(p => p.StartsWith("cascaded-", StringComparison.Ordinal)).Select(p => Api.Get("pods", p)).OfType<System.Text.Json.Nodes.JsonObject>(),
            p => Assert.NotNull(p["metadata"]!["deletionTimestamp"]));
        await Eventually.WaitAsync(() => !Api.Versions("pods").Keys.Any(p => p.StartsWith("cascaded-", StringComparison.Ordinal)), Wait, "the cascaded pods gone");
    }

    [Fact]
    public async Task Status_FromTheControllers_ShowsInTheSnapshot()
    {
        await Runtime.CreateJobAsync(Spec("done"));
        await Runtime.CreateJobAsync(Spec("broken") with { BackoffLimit = 1 });
        var pod = (await WaitForJobAsync("broken", j => j.Pods.Count == 1, "a pod")).Pods[0].Name;

        Api.RestartPod(pod);
        await WaitForJobAsync("broken", j => j.Pods[0].Restarts == 1, "the restart counted");
        Api.CompleteJob("done");
        Api.FailJob("broken");

        // The Job and its pods change in separate watches: wait for both to be seen.
        var done = await WaitForJobAsync("done", j => j.Condition == "Complete" && j.Pods.All(p => p.Phase == "Succeeded"), "Complete, pods Succeeded");
        Assert.Equal((0, 1), (done.Active, done.Succeeded));
        Assert.NotNull(done.CompletionTime);
        Assert.All(done.Pods, p => Assert.Equal("Succeeded", p.Phase));
        var broken = await WaitForJobAsync("broken", j => j.Condition == "Failed", "Failed");
        Assert.Equal("BackoffLimitExceeded: Job has reached the specified backoff limit", broken.Reason);
        Assert.Equal(2, broken.Failed);
    }

    [Fact]
    public async Task Events_OfAJobAndOfPods_ShowWithThem_AndGoWhenDeleted()
    {
        await Runtime.CreateJobAsync(Spec("broken") with { BackoffLimit = 0 });
        string jobPod = (await WaitForJobAsync("broken", j => j.Pods.Count == 1, "the Job's pod")).Pods[0].Name;
        string workerPod = await _cluster.FirstWorkerPodAsync();

        string failed = Api.AddEvent("Job", "broken", "BackoffLimitExceeded", "Job has reached the specified backoff limit", type: "Warning");
        string unscheduled = Api.AddEvent("Pod", workerPod, "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", type: "Warning", count: 4);
        Api.AddEvent("Pod", jobPod, "Started", "Started container pi-container");
        Api.AddEvent("Job", "someone-else", "SuccessfulCreate", "Created pod: someone-else-abcde");

        await Eventually.WaitAsync(() => Runtime.Current.Jobs.Single(j => j.Name == "broken").Events.Count == 1
                                         && Runtime.Current.Workers.Pods.Single(p => p.Name == workerPod).Events.Count == 1
                                         && Runtime.Current.Jobs.Single(j => j.Name == "broken").Pods[0].Events.Count == 1,
            Wait, () => $"the events in the views (now: {string.Join("; ", Runtime.Current.Jobs.Select(j => $"{j.Name} {j.Events.Count}"))})");
        var job = Runtime.Current.Jobs.Single(j => j.Name == "broken");
        var jobEvent = Assert.Single(job.Events);
        Assert.Equal((ObjectEvent.Warning, "BackoffLimitExceeded", "Job has reached the specified backoff limit", 1), (jobEvent.Type, jobEvent.Reason, jobEvent.Message, jobEvent.Count));
        Assert.Equal(("Normal", "Started"), (job.Pods[0].Events[0].Type, job.Pods[0].Events[0].Reason));
        Assert.Equal(1, job.Warnings);
        var worker = Runtime.Current.Workers.Pods.Single(p => p.Name == workerPod);
        Assert.Equal(("FailedScheduling", 4, 1), (worker.Events[0].Reason, worker.Events[0].Count, worker.Warnings));
        Assert.All(Runtime.Current.Workers.Pods.Where(p => p.Name != workerPod), p => Assert.Empty(p.Events));

        Api.Delete("events", failed);
        Api.Delete("events", unscheduled);

        await Eventually.WaitAsync(() => Runtime.Current.Jobs.Single(j => j.Name == "broken").Events.Count == 0
                                         && Runtime.Current.Workers.Pods.Single(p => p.Name == workerPod).Events.Count == 0,
            Wait, "the deleted events gone from the views");
        Assert.Single(Runtime.Current.Jobs.Single(j => j.Name == "broken").Pods[0].Events);
    }

    [Fact]
    public async Task Events_OfAnEarlierJobOfTheSameName_AreNotShownOnTheNewOne()
    {
        await Runtime.CreateJobAsync(Spec("again"));
        await WaitForJobAsync("again", _ => true, "the Job");
        Api.AddEvent("Job", "again", "BackoffLimitExceeded", "Job has reached the specified backoff limit", type: "Warning");
        await WaitForJobAsync("again", j => j.Warnings == 1, "the first run's warning");

        await Runtime.RerunJobAsync("again");

        string uid = Api.Get("jobs", "again")!["metadata"]!["uid"]!.GetValue<string>();
        await WaitForJobAsync("again", j => j.Events.Count == 0, $"the new Job ({uid}) without its predecessor's event");
        Assert.Single(Api.Versions("events"));
    }

    [Fact]
    public async Task Autoscaler_ShowsItsConditionsAndEvents()
    {
        await Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = true, TargetQueueLengthPerReplica = 5 });
        Api.AddEvent("HorizontalPodAutoscaler", "pi-worker", "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target");

        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler?.LastEvent is not null, Wait, "the HPA's event");
        var view = Runtime.Current.Autoscaler!;
        Assert.Equal("HorizontalPodAutoscaler", view.Kind);
        Assert.Equal((2, 10, 20, 5), (view.Spec.MinReplicas, view.Spec.MaxReplicas, view.Spec.TargetCpuPercent ?? 0, view.Spec.TargetQueueLengthPerReplica ?? 0));
        Assert.StartsWith("AbleToScale True (SucceededGetScale)", view.Status);
        Assert.StartsWith("SuccessfulRescale: New size: 4", view.LastEvent);

        await Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = false });
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is null, Wait, "the HPA deleted");
        await Runtime.ScaleAsync(1);
    }

    [Fact]
    public async Task Forbidden_NamesTheMissingVerbAndResource()
    {
        Api.Forbid("create", "jobs");
        Api.Forbid("patch", "deployments/scale");

        var create = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(Spec("nope")));
        var scale = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.ScaleAsync(1));

        Assert.StartsWith("The dashboard is not allowed to create jobs in namespace piops-test: its Role needs the verb \"create\" on \"jobs\"", create.Message);
        Assert.Contains("cannot create resource \"jobs\" in API group \"batch\"", create.Message);
        Assert.StartsWith("The dashboard is not allowed to patch deployments/scale in namespace piops-test", scale.Message);
    }

    [Fact]
    public async Task Conflict_SaysTheNameExists()
    {
        await Runtime.CreateJobFromYamlAsync(ValidYaml);

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(ValidYaml));

        Assert.Equal("A Job named pasted already exists: re-run it, delete it first, or choose another name.", ex.Message);
    }

    [Fact]
    public async Task Invalid_ShowsTheApisFieldMessages()
    {
        var badName = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(ValidYaml.Replace("name: pasted", "name: Not_Valid")));
        var selector = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(
            ValidYaml.Replace("  backoffLimit: 1", "  backoffLimit: 1\n  selector:\n    matchLabels:\n      pod: pi")));

        Assert.StartsWith("The API refused the Job Not_Valid: metadata.name: Invalid value: \"Not_Valid\": a lowercase RFC 1123 subdomain", badName.Message);
        // The API server's own words (pkg/apis/batch/validation/validation.go), relayed field by field.
        Assert.StartsWith("The API refused the Job pasted: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{", selector.Message);
        Assert.Contains("}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated; ", selector.Message);
        Assert.Contains("; spec.template.metadata.labels: Invalid value: map[string]string{", selector.Message);
        Assert.EndsWith("}: `selector` does not match template `labels`. Nothing was created or changed.", selector.Message);
        Assert.Empty(Api.Versions("jobs"));
    }

    [Fact]
    public async Task NotFound_SaysItIsGone()
    {
        var suspend = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.SuspendCronJobAsync("vanished", true));
        var rerun = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.RerunJobAsync("vanished"));

        Assert.Equal("There is no CronJob named vanished: it may have been deleted already.", suspend.Message);
        Assert.Equal("There is no Job named vanished: it may have been deleted already.", rerun.Message);
    }

    [Fact]
    public async Task YamlCreate_MakesTheJob_LabelledAsPiOps()
    {
        string name = await Runtime.CreateJobFromYamlAsync(ValidYaml);

        var job = await WaitForJobAsync(name, _ => true, "the pasted Job");
        Assert.Equal((JobCommand.AddTasks, 7, JobRestartPolicy.Never, 1), (job.Spec.Command, job.Spec.AddTasksCount, job.Spec.RestartPolicy, job.Spec.BackoffLimit));
        Assert.Equal("true", Api.Get("jobs", "pasted")!["metadata"]!["labels"]!["piops.io/managed"]!.GetValue<string>());
    }

    [Fact]
    public async Task YamlCreate_RefusesAnUnknownField_AndAnotherKind()
    {
        var unknown = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(ValidYaml.Replace("  backoffLimit: 1", "  backofLimit: 1")));
        var cron = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(ValidYaml.Replace("kind: Job", "kind: CronJob")));

        Assert.StartsWith("The YAML is not a valid Job", unknown.Message);
        Assert.Contains("backofLimit", unknown.Message);
        Assert.Equal("This YAML is a CronJob (batch/v1): only a batch/v1 Job can be created here. Nothing was created.", cron.Message);
        Assert.Equal(0, Api.Requests("create jobs"));
    }
}

/// <summary>Which runtime the dashboard picks, and what a bad Kubernetes section says at start-up.</summary>
public sealed class KubernetesConnectionFacts
{
    [Fact]
    public void Auto_PicksTheLocalRuntime_WithoutAKubeconfigOrACluster()
    {
        string home = Directory.CreateTempSubdirectory("piops-home-").FullName;
        try
        {
            Assert.False(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), _ => null, home, () => false));
            Assert.True(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), _ => null, home, () => true));
            Directory.CreateDirectory(Path.Combine(home, ".kube"));
            File.WriteAllText(Path.Combine(home, ".kube", "config"), "apiVersion: v1\nkind: Config\n");
            Assert.True(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), _ => null, home, () => false));
            Assert.False(KubernetesConnection.UsesKubernetes(new KubernetesOptions { Mode = KubernetesMode.Local }, _ => null, home, () => true));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void Auto_ReadsKubeconfigFromTheEnvironment()
    {
        string file = Path.GetTempFileName();
        try
        {
            Assert.True(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), n => n == "KUBECONFIG" ? file : null, "/nonexistent", () => false));
            Assert.False(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), n => n == "KUBECONFIG" ? file + ".missing" : null, "/nonexistent", () => false));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Auto_WithNoKubeconfigAnywhere_IsLocal_WhateverThisMachineHas()
    {
        // An explicit empty KUBECONFIG and an empty home: the machine's own ~/.kube/config is never looked at.
        string home = Directory.CreateTempSubdirectory("piops-home-").FullName;
        try
        {
            Assert.Empty(KubernetesConnection.KubeconfigFiles(new KubernetesOptions(), n => n == "KUBECONFIG" ? "" : null, home));
            Assert.False(KubernetesConnection.UsesKubernetes(new KubernetesOptions(), n => n == "KUBECONFIG" ? "" : null, home, () => false));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Connect_UsesTheConfiguredContext_AndItsNamespace()
    {
        await using var api = await KubeApiDouble.StartAsync();
        string dir = Directory.CreateTempSubdirectory("piops-k8s-").FullName;
        try
        {
            string path = api.WriteKubeconfig(dir);

            var target = KubernetesConnection.Connect(new KubernetesOptions { Mode = KubernetesMode.Kubernetes, KubeconfigPath = path });
            var other = KubernetesConnection.Connect(new KubernetesOptions { KubeconfigPath = path, Namespace = "elsewhere" });
            var missing = Assert.Throws<InvalidOperationException>(() => KubernetesConnection.Connect(new KubernetesOptions { KubeconfigPath = path, Context = "prod" }));

            Assert.Equal(("double-cluster", "double", KubeApiDouble.Namespace), (target.Cluster, target.Context, target.Namespace));
            Assert.Equal("elsewhere", other.Namespace);
            Assert.Contains("has no context named \"prod\"; set Kubernetes:Context to one of: double", missing.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Validate_ReportsEveryErrorAtOnce()
    {
        var errors = new KubernetesOptions
        {
            KubeconfigPath = "/nonexistent/kubeconfig", Namespace = "Not_A_Namespace", ManagedLabel = "no-equals-sign",
            RedisPort = 0, WatchTimeout = TimeSpan.Zero, WorkersDeployment = "",
        }.Validate().ToList();

        Assert.Equal(6, errors.Count);
        Assert.Contains(errors, e => e.Contains("WatchTimeout", StringComparison.Ordinal) && e.Contains("finite", StringComparison.Ordinal));
    }
}
