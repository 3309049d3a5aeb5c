using System.Text.Json.Nodes;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// kubectl, Kubernetes' own client, as the oracle: it works against the API double (so the double serves what a real
/// client needs), and for each action PiOps sends what kubectl sends for the same command, field by field, generated
/// names and timestamps aside. docs/kubernetes.md lists the differences that remain and why.
/// </summary>
public sealed class KubectlOracleFacts(RedisServer server, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string JobsPath = $"/apis/batch/v1/namespaces/{KubeApiDouble.Namespace}/jobs";
    private ClusterDashboard _cluster = default!;
    private Kubectl _kubectl = default!;

    private KubeApiDouble Api => _cluster.Api;

    private WorkloadActions Runtime => _cluster.Runtime;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterDashboard.StartAsync(server);
        _kubectl = new Kubectl(Api);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task KubectlGetJobs_ListsTheJobPiOpsCreated()
    {
        await Runtime.CreateJobAsync(JobSpec.Templates[0].Spec);

        string table = await _kubectl.RunAsync("get", "jobs");
        string names = await _kubectl.RunAsync("get", "jobs", "-o", "name");

        Assert.Contains("jobworker", table);
        Assert.Equal("job.batch/jobworker", names.Trim());
    }

    [Fact]
    public async Task JobEvents_AreOrderedAndCountedAsKubectlEventsShowsThem()
    {
        // Three events of one Job: one from a core/v1 recorder (lastTimestamp 30 s ago), one written through
        // events.k8s.io that happened again 4 times (first 60 s ago, last seen 5 s ago), and one events.k8s.io event
        // seen once (20 s ago). kubectl orders them by when they were last seen and counts the series.
        await Runtime.CreateJobAsync(JobSpec.Templates[0].Spec with { Name = "evented" });
        var now = DateTime.UtcNow;
        Api.AddEvent("Job", "evented", "OldRecorder", "written through core/v1", at: now.AddSeconds(-30));
        Api.AddSeriesEvent("Job", "evented", "SeriesAgain", "written through events.k8s.io, four times", first: now.AddSeconds(-60),
            lastObserved: now.AddSeconds(-5), count: 4, reportingController: "job-controller");
        Api.AddSeriesEvent("Job", "evented", "SeenOnce", "written through events.k8s.io, once", first: now.AddSeconds(-20), reportingController: "job-controller");
        string[] reasons = ["OldRecorder", "SeriesAgain", "SeenOnce"];

        string table = await _kubectl.RunAsync("events", "--for", "job/evented");
        var kubectlOrder = table.Split('\n').Select(line => reasons.FirstOrDefault(r => line.Contains(r, StringComparison.Ordinal))).OfType<string>().ToList();
        Assert.Matches(@"\d+s \(x4 over \d+s\)", table);

        await Eventually.WaitAsync(() => Runtime.Current.Jobs.FirstOrDefault(j => j.Name == "evented")?.Events.Count(e => reasons.Contains(e.Reason)) == 3,
            Wait, "PiOps to see the three events");
        var ours = Runtime.Current.Jobs.Single(j => j.Name == "evented").Events.Where(e => reasons.Contains(e.Reason)).ToList();
        // PiOps lists the newest first; kubectl events prints the oldest first.
        Assert.Equal(kubectlOrder, ours.Select(e => e.Reason).Reverse());
        Assert.Equal(4, ours.Single(e => e.Reason == "SeriesAgain").Count);
        Assert.Equal(1, ours.Single(e => e.Reason == "SeenOnce").Count);
    }

    [Fact]
    public async Task KubectlCreateJobFromCronJob_AndScale_WorkAgainstTheDouble()
    {
        await Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork);

        await CreateJobFromCronJobAsync("by-kubectl", "addwork");
        await _kubectl.RunAsync("scale", "deployment/pi-worker", "--replicas=4");

        Assert.Equal("manual", Api.Get("jobs", "by-kubectl")!["metadata"]!["annotations"]!["cronjob.kubernetes.io/instantiate"]!.GetValue<string>());
        Assert.Equal(4, Api.Get("deployments", "pi-worker")!["spec"]!["replicas"]!.GetValue<int>());
        await Eventually.WaitAsync(() => Runtime.Current.Workers is { Desired: 4, Ready: 4 }, Wait, () => $"PiOps to see kubectl's scale (now {Runtime.Current.Workers})");
    }

    [Fact]
    public async Task KubectlLogsFollow_StreamsTheLinesThePodWrites()
    {
        string pod = await _cluster.FirstWorkerPodAsync();
        using var follow = _kubectl.Start("logs", "-f", pod);
        await Eventually.WaitAsync(() => Api.OpenLogStreams == 1, Wait, () => $"kubectl to follow {pod} (stderr: {follow.Err})");

        Api.WriteLog(pod, "task 1 done");
        Api.WriteLog(pod, "task 2 done");

        await Eventually.WaitAsync(() => follow.Lines.Contains("task 2 done"), Wait, () => $"kubectl to print the new lines (got: {string.Join(" / ", follow.Lines)}; stderr: {follow.Err})");
        Assert.Equal(["task 1 done", "task 2 done"], follow.Lines.SkipWhile(l => l != "task 1 done"));
    }

    [Fact]
    public async Task RunNow_SendsTheJobKubectlCreateJobFromCronJobSends()
    {
        await Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork);

        Api.ClearRecorded();
        string ours = await Runtime.RunCronJobNowAsync("addwork");
        var ourBody = LastBody("POST", JobsPath);
        await CreateJobFromCronJobAsync("theirs", "addwork");
        var theirBody = LastBody("POST", JobsPath);

        // kubectl changed its owner reference twice; PiOps follows kubectl 1.29 and later (controller, no
        // blockOwnerDeletion). Older kubectl on the machine differs by exactly that, and nothing else.
        int minor = await _kubectl.MinorVersionAsync();
        string[] knownDifferences = minor switch
        {
            < 28 => ["metadata.ownerReferences[0].controller: true | -"],
            28 => ["metadata.ownerReferences[0].blockOwnerDeletion: - | true"],
            _ => [],
        };
        Assert.Equal(knownDifferences, Differences(ourBody, theirBody, "metadata.name", "metadata.namespace"));
        Assert.NotNull(Api.Get("jobs", ours));
    }

    [Fact]
    public async Task Scale_SendsWhatKubectlScaleSends()
    {
        string path = $"/apis/apps/v1/namespaces/{KubeApiDouble.Namespace}/deployments/pi-worker/scale";
        Api.ClearRecorded();
        await Runtime.ScaleAsync(3);
        var ours = Last("PATCH", path);
        await _kubectl.RunAsync("scale", "deployment/pi-worker", "--replicas=3");
        var theirs = Last("PATCH", path);

        Assert.Equal(MediaType(theirs), MediaType(ours));
        AssertSame(ours.Json, theirs.Json);
    }

    [Fact]
    public async Task SuspendAndResume_SendWhatKubectlPatchSends()
    {
        await Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork);
        string path = $"/apis/batch/v1/namespaces/{KubeApiDouble.Namespace}/cronjobs/addwork";

        foreach (bool suspend in new[] { true, false })
        {
            Api.ClearRecorded();
            await Runtime.SuspendCronJobAsync("addwork", suspend);
            var ours = Last("PATCH", path);
            await _kubectl.RunAsync("patch", "cronjob/addwork", "--type=merge", "-p", $"{{\"spec\":{{\"suspend\":{(suspend ? "true" : "false")}}}}}");
            var theirs = Last("PATCH", path);

            Assert.Equal(MediaType(theirs), MediaType(ours));
            AssertSame(ours.Json, theirs.Json);
        }
    }

    [Fact]
    public async Task DeleteJob_AsksForWhatKubectlDeleteCascadeBackgroundAsksFor()
    {
        await Runtime.CreateJobAsync(JobSpec.Templates[0].Spec with { Name = "ours" });
        await Runtime.CreateJobAsync(JobSpec.Templates[0].Spec with { Name = "theirs" });

        Api.ClearRecorded();
        await Runtime.DeleteJobAsync("ours");
        var ours = Last("DELETE", $"{JobsPath}/ours");
        await _kubectl.RunAsync("delete", "job", "theirs", "--cascade=background", "--wait=false");
        var theirs = Last("DELETE", $"{JobsPath}/theirs");

        // kubectl sends DeleteOptions in the body, the C# client as query parameters: the API server reads both.
        Assert.Equal(DeleteOptions(theirs), DeleteOptions(ours));
        Assert.Null(Api.Get("jobs", "ours"));
        Assert.Null(Api.Get("jobs", "theirs"));
    }

    [Fact]
    public async Task CreateJob_SendsWhatKubectlCreateSendsForTheManifestThePreviewShows()
    {
        var spec = JobSpec.Templates[0].Spec;
        Api.ClearRecorded();
        await Runtime.CreateJobAsync(spec with { Name = "ours" });
        var ours = LastBody("POST", JobsPath);
        var theirs = await KubectlCreateAsync(Runtime.JobManifest(spec with { Name = "theirs" }));

        AssertSame(ours, theirs, "metadata.name", "metadata.namespace");
    }

    [Fact]
    public async Task Rerun_LeavesTheJobThatKubectlCreateOfItsFirstManifestLeaves()
    {
        // PiOps re-creates a Job from the object the server keeps, not from a manifest of its own: a change made since
        // (kubectl patch of its parallelism, say) is kept. That object carries the defaults the server filled in, so the
        // re-run's body has fields kubectl's body for the first manifest leaves out, and nothing else differs: the
        // server keeps the same Job either way (docs/kubernetes.md, "Re-run").
        var spec = JobSpec.Templates[1].Spec with { Name = "nightly" }; // Indexed: completions, completionMode, the index
        await Runtime.CreateJobAsync(spec);
        await Eventually.WaitAsync(() => Runtime.Current.Jobs.Any(j => j.Name == "nightly"), Wait, "PiOps to see the Job");

        Api.ClearRecorded();
        await Runtime.RerunJobAsync("nightly");
        var oursBody = LastBody("POST", JobsPath);
        var ours = Stored("jobs", "nightly");
        await _kubectl.RunAsync("delete", "job", "nightly", "--cascade=background", "--wait=false");
        await Eventually.WaitAsync(() => Api.Get("jobs", "nightly") is null, Wait, "the re-run Job to go");
        var theirsBody = await KubectlCreateAsync(Runtime.JobManifest(spec));
        var theirs = Stored("jobs", "nightly");

        AssertSame(ours, theirs);
        var extra = Differences(oursBody, theirsBody, "metadata.name", "metadata.namespace");
        Assert.All(extra, d => Assert.EndsWith(" | -", d));
        // Each field only the re-run sent is one the server gave kubectl's Job too: a default, with the same value.
        var oursSent = RequestBodies.Flatten(oursBody);
        var kept = RequestBodies.Flatten(theirs);
        foreach (string field in extra.Select(d => d[..d.IndexOf(": ", StringComparison.Ordinal)]))
        {
            Assert.True(kept.TryGetValue(field, out string? value) && value == oursSent[field],
                $"{field}: the re-run sent {oursSent[field]}, kubectl nothing, and the server keeps {value ?? "nothing"} for kubectl's Job");
        }
    }

    [Fact]
    public async Task Clone_SendsWhatKubectlCreateSendsForTheOriginalsManifestUnderTheNewName()
    {
        var spec = JobSpec.Templates[0].Spec with { Name = "nightly", Parallelism = 3 };
        await Runtime.CreateJobAsync(spec);
        await Eventually.WaitAsync(() => Runtime.Current.Jobs.Any(j => j.Name == "nightly"), Wait, "PiOps to see the Job");

        // What the Jobs page's Clone fills the form with: the spec PiOps reads back from the cluster's Job.
        var read = Runtime.Current.Jobs.Single(j => j.Name == "nightly").Spec;
        Api.ClearRecorded();
        await Runtime.CreateJobAsync(read with { Name = "nightly-2" });
        var ours = LastBody("POST", JobsPath);
        var theirs = await KubectlCreateAsync(Runtime.JobManifest(spec with { Name = "nightly-3" }));

        AssertSame(ours, theirs, "metadata.name", "metadata.namespace");
    }

    [Fact]
    public async Task CreateCronJob_SendsWhatKubectlCreateSendsForTheManifestThePreviewShows()
    {
        var spec = CronJobSpec.BookAddWork with { Name = "ours", Schedule = "0 9 * * 1-5", TimeZone = "Europe/Berlin" };
        string path = $"/apis/batch/v1/namespaces/{KubeApiDouble.Namespace}/cronjobs";

        Api.ClearRecorded();
        await Runtime.CreateCronJobAsync(spec);
        var ours = LastBody("POST", path);
        await KubectlCreateAsync(Runtime.CronJobManifest(spec with { Name = "theirs" }));
        var theirs = LastBody("POST", path);

        AssertSame(ours, theirs, "metadata.name", "metadata.namespace");
    }

    [Fact]
    public async Task EditCronJob_LeavesTheObjectKubectlReplaceLeavesForTheEditedManifest()
    {
        // PiOps sends a merge patch that carries the form's resourceVersion; kubectl replace sends the whole object. The
        // requests differ by design, so what is compared is what they leave on the server.
        var before = CronJobSpec.BookAddWork;
        var after = before with { Schedule = "*/15 * * * *", TimeZone = "Asia/Tokyo", Suspend = true };
        await Runtime.CreateCronJobAsync(before with { Name = "ours" });
        await Runtime.CreateCronJobAsync(before with { Name = "theirs" });
        await Eventually.WaitAsync(() => Runtime.Current.CronJobs.Count(c => c.Name is "ours" or "theirs") == 2, Wait, "PiOps to see both CronJobs");

        var opened = Runtime.Current.CronJobs.Single(c => c.Name == "ours").Spec;
        await Runtime.UpdateCronJobAsync(after with { Name = "ours", ResourceVersion = opened.ResourceVersion });
        await KubectlReplaceAsync(Runtime.CronJobManifest(after with { Name = "theirs" }));

        AssertSame(Stored("cronjobs", "ours"), Stored("cronjobs", "theirs"), "metadata.name", "metadata.namespace");
    }

    /// <summary>kubectl create -f of a manifest; returns the body of the POST it sent.</summary>
    private async Task<JsonNode?> KubectlCreateAsync(string manifest)
    {
        await KubectlWithFileAsync("create", manifest);
        return Api.Recorded.Last(r => r.Method == "POST").Json;
    }

    private Task KubectlReplaceAsync(string manifest) => KubectlWithFileAsync("replace", manifest);

    // kubectl VERB -f FILE with the manifest in a temporary file (the double serves no OpenAPI: --validate=false).
    private async Task KubectlWithFileAsync(string verb, string manifest)
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, manifest);
        try
        {
            await _kubectl.RunAsync(verb, "-f", file, "--validate=false");
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The object as the server keeps it, without what the server alone sets (identity, versions, status).</summary>
    private JsonNode? Stored(string plural, string name)
    {
        var stored = Api.Get(plural, name)?.DeepClone().AsObject() ?? throw new InvalidOperationException($"no {plural}/{name}");
        stored.Remove("status");
        var meta = stored["metadata"]!.AsObject();
        string uid = meta["uid"]!.GetValue<string>();
        foreach (string field in new[] { "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields" })
        {
            meta.Remove(field);
        }

        // The labels and selector the server derived from the uid (a Job's controller-uid) differ by that uid alone.
        foreach (var labels in new[] { meta["labels"], stored["spec"]?["selector"]?["matchLabels"], stored["spec"]?["template"]?["metadata"]?["labels"] })
        {
            if (labels is JsonObject o)
            {
                foreach (string key in o.Where(l => l.Value?.GetValue<string>() == uid).Select(l => l.Key).ToList())
                {
                    o.Remove(key);
                }
            }
        }

        return stored;
    }

    /// <summary>
    /// kubectl create job NAME --from=cronjob/CRON. Its typed client sends the Job as protobuf, which the double does not
    /// read, so the Job kubectl builds (createJobFromCronJob, printed with --dry-run=client -o json) is sent by kubectl
    /// create -f, which sends JSON: the same object, the same POST.
    /// </summary>
    private async Task CreateJobFromCronJobAsync(string name, string cron)
    {
        string json = await _kubectl.RunAsync("create", "job", name, $"--from=cronjob/{cron}", "--dry-run=client", "-o", "json");
        string file = Path.Combine(Path.GetTempPath(), $"piops-job-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, json);
        try
        {
            await _kubectl.RunAsync("create", "-f", file, "--validate=false");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private KubeApiDouble.RecordedRequest Last(string method, string path) =>
        Api.Recorded.LastOrDefault(r => r.Method == method && r.Path == path)
        ?? throw new InvalidOperationException($"no {method} {path} was recorded; recorded: {string.Join(", ", Api.Recorded.Select(r => $"{r.Method} {r.Path}{r.Query}"))}");

    private JsonNode? LastBody(string method, string path) => Last(method, path).Json;

    private static string? MediaType(KubeApiDouble.RecordedRequest r) => r.ContentType?.Split(';')[0].Trim();

    /// <summary>propagationPolicy and orphanDependents, from the query or the DeleteOptions body, as the API server reads them.</summary>
    private static (string?, string?) DeleteOptions(KubeApiDouble.RecordedRequest r)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(r.Query);
        var body = r.Json;
        string? policy = query.TryGetValue("propagationPolicy", out var p) ? p.ToString() : body?["propagationPolicy"]?.GetValue<string>();
        string? orphan = query.TryGetValue("orphanDependents", out var o) ? o.ToString() : body?["orphanDependents"]?.ToJsonString();
        return (policy, orphan);
    }

    /// <summary>
    /// The bodies, field by field. metadata.name is generated (run now) or chosen per test; metadata.namespace is what
    /// kubectl copies from its context into the object and PiOps leaves to the request's path, which the API server
    /// then fills in (apiserver/pkg/registry/rest/meta.go, EnsureObjectNamespaceMatchesRequestNamespace).
    /// </summary>
    private void AssertSame(JsonNode? ours, JsonNode? kubectls, params string[] ignored)
    {
        var differences = Differences(ours, kubectls, ignored);
        Assert.True(differences.Count == 0, "PiOps | kubectl differ:\n" + string.Join("\n", differences));
    }

    private List<string> Differences(JsonNode? ours, JsonNode? kubectls, params string[] ignored)
    {
        output.WriteLine($"PiOps:   {ours?.ToJsonString()}");
        output.WriteLine($"kubectl: {kubectls?.ToJsonString()}");
        return RequestBodies.Differences(ours, kubectls, ignored);
    }
}
