using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Local;

/// <summary>The local runtime with real worker processes against a real redis-server.</summary>
public sealed class LocalRuntimeFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-local-").FullName;
    private DashboardApp _app = default!;

    private IWorkloadRuntime Runtime => _app.Workloads;

    private Task<DashboardApp> StartAppAsync(int initialReplicas = 0) =>
        DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas, restartDelay: "00:00:00.5");

    public async Task InitializeAsync() => _app = await StartAppAsync();

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private Task WaitForAsync(Func<DeploymentView, bool> condition, string what) =>
        Eventually.WaitAsync(() => condition(Runtime.Current.Workers), Wait, what);

    [Fact]
    public async Task Scale_StartsWorkerProcesses_ThatTakeTasks()
    {
        await Runtime.ScaleAsync(2);

        await WaitForAsync(d => d.Pods.Count == 2 && d.Ready == 2, "two ready pods");
        Assert.All(Runtime.Current.Workers.Pods, p => Assert.StartsWith("pi-worker-", p.Name));
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, ["1000", "2000"]);
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(new QueueKeys(_queue).Results) == 2, Wait, "both tasks done");
        // Each pod is a worker with its own heartbeat (a busy machine may take a moment to start the second).
        await Eventually.WaitAsync(async () =>
        {
            var workers = (await server.Db.SetMembersAsync(new QueueKeys(_queue).Workers)).Select(v => (string)v!).ToList();
            return Runtime.Current.Workers.Pods.All(p => workers.Any(w => w.StartsWith(p.Name + "-")));
        }, Wait, "both pods registered as workers");
        Assert.Contains(((PiOps.Web.Local.LocalRuntime)((WorkloadActions)Runtime).Backend).Logs(Runtime.Current.Workers.Pods[0].Name), l => l.Text.StartsWith("starting"));
    }

    [Fact]
    public async Task KilledPod_IsRestartedInPlace()
    {
        await Runtime.ScaleAsync(1);
        await WaitForAsync(d => d.Ready == 1, "a ready pod");
        var pod = Runtime.Current.Workers.Pods.Single();

        WorkerProcessSignals.Send(pod.Pid!.Value, 9);

        await WaitForAsync(d => d.Pods.Single().Restarts == 1 && d.Pods.Single().Ready, "the pod restarted");
        var again = Runtime.Current.Workers.Pods.Single();
        Assert.Equal(pod.Name, again.Name);
        Assert.NotEqual(pod.Pid, again.Pid);
    }

    [Fact]
    public async Task ScaleDown_StopsTheIdleWorker_NotTheNewerBusyOne()
    {
        var keys = new QueueKeys(_queue);
        await Runtime.ScaleAsync(1);
        await WaitForAsync(d => d.Ready == 1, "a ready pod");
        string older = Runtime.Current.Workers.Pods.Single().Name;
        // The older pod is busy for a few seconds, so the long task that follows goes to the newer one.
        await server.Db.ListRightPushAsync(keys.Queue, ["10000000000"]);
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Pods.Any(p => p.Name == older && p.Busy), Wait, "the older pod busy");
        await Runtime.ScaleAsync(2);
        await WaitForAsync(d => d.Ready == 2, "two ready pods");
        string newer = Runtime.Current.Workers.Pods.Single(p => p.Name != older).Name;
        await server.Db.ListRightPushAsync(keys.Queue, ["400000000000"]);
        // The long task goes to the newer pod when the older is still busy (the usual case, and the one newest-first
        // gets wrong); on a very busy machine the older may have finished first and taken it. Either way, once one
        // pod runs the long task and the other is idle, the scale-down must keep the busy one.
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Pods.Count(p => p.Busy) == 1 && Runtime.Current.Workers.Pods.Count == 2,
            TimeSpan.FromMinutes(3), "one pod busy with the long task, the other idle");
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(keys.Results) == 1, TimeSpan.FromMinutes(3), "the short task done");
        string busy = Runtime.Current.Workers.Pods.Single(p => p.Busy).Name;
        string idle = Runtime.Current.Workers.Pods.Single(p => !p.Busy).Name;
        Assert.Equal(1, Runtime.Current.Workers.Pods.Single(p => p.Name == idle).ScaleDownRank);

        await Runtime.ScaleAsync(1);

        await WaitForAsync(d => d.Pods.Count == 1, "one pod left");
        var left = Runtime.Current.Workers.Pods.Single();
        Assert.Equal(busy, left.Name);
        // Its task was not given back: it is still running, not waiting again.
        Assert.Equal(0, await server.Db.ListLengthAsync(keys.Queue));
        Assert.Contains(busy, new[] { older, newer });
    }

    [Fact]
    public async Task ScaleDown_StopsPodsWithSigterm()
    {
        await Runtime.ScaleAsync(2);
        await WaitForAsync(d => d.Ready == 2, "two ready pods");
        var newest = Runtime.Current.Workers.Pods.OrderByDescending(p => p.StartedAt).First();

        await Runtime.ScaleAsync(1);

        await WaitForAsync(d => d.Pods.Count == 1, "one pod left");
        Assert.NotEqual(newest.Name, Runtime.Current.Workers.Pods.Single().Name);
        Assert.Equal(1, Runtime.Current.Workers.Desired);
        // The removed pod's folder goes with it; the running pod's stays.
        string pods = Path.Combine(_data, "pods");
        await Eventually.WaitAsync(() => !Directory.Exists(Path.Combine(pods, newest.Name)), Wait, "the removed pod's folder gone");
        Assert.True(Directory.Exists(Path.Combine(pods, Runtime.Current.Workers.Pods.Single().Name)));
    }

    [Fact]
    public async Task Replicas_SurviveADashboardRestart_AndProcessesDoNot()
    {
        await Runtime.ScaleAsync(1);
        await WaitForAsync(d => d.Ready == 1, "a ready pod");
        int pid = Runtime.Current.Workers.Pods.Single().Pid!.Value;

        await _app.DisposeAsync();
        Assert.False(PiOps.Shared.Processes.PosixSignals.IsAlive(pid), "the worker outlived the dashboard");

        _app = await StartAppAsync(initialReplicas: 0);
        await WaitForAsync(d => d.Desired == 1 && d.Ready == 1, "the saved replica count restored");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public async Task Scale_OutOfRange_IsRefusedWithASentence(int replicas)
    {
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.ScaleAsync(replicas));

        Assert.Contains("Replicas must be from 0 to 32", ex.Message);
        Assert.Equal(0, Runtime.Current.Workers.Desired);
    }
}

/// <summary>A worker started by the local runtime stops by itself when the dashboard is gone, even after SIGKILL.</summary>
public sealed class ParentWatchFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Worker_Stops_WhenItsParentIsGone()
    {
        using var parent = System.Diagnostics.Process.Start("sleep", "60");
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, TestRedisServer.NewQueueName(),
            ("PIOPS_PARENT_PID", parent.Id.ToString())));
        await worker.WaitForLineAsync(l => l.StartsWith("starting"), TimeSpan.FromSeconds(30), "the worker to start");

        parent.Kill();

        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("parent gone: stopping", worker.Lines);
    }
}

/// <summary>Jobs on the local runtime, with real worker processes against a real redis-server.</summary>
public sealed class LocalJobFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-jobs-").FullName;
    private DashboardApp _app = default!;

    private IWorkloadRuntime Runtime => _app.Workloads;

    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync() =>
        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 0, restartDelay: "00:00:00.2");

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private static string Describe(JobView j) =>
        $"{j.Name} {j.Condition} active {j.Active} pods " + string.Join(",", j.Pods.Select(p => $"{p.Name}:{p.Phase}:{p.Pid}"));

    private static JobSpec Template(string name) => JobSpec.Templates.Single(t => t.Spec.Name == name).Spec;

    private Task<JobView> WaitForJobAsync(string name, Func<JobView, bool> condition, string what) =>
        Task.Run(async () =>
        {
            JobView? found = null;
            await Eventually.WaitAsync(() => (found = Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)) is { } j && condition(j), Wait,
                $"{what} (job now: {Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)})");
            return found!;
        });

    [Fact]
    public async Task QueueDrainingJob_CompletesWhenTheQueueIsEmpty()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["1000", "2000", "3000", "4000", "5000"]);

        await Runtime.CreateJobAsync(Template("jobworker"));

        var job = await WaitForJobAsync("jobworker", j => j.Condition == "Complete", "the Job to complete");
        Assert.True(job.Succeeded >= 1);
        Assert.Equal(5, await server.Db.ListLengthAsync(Keys.Results));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
        Assert.NotNull(job.CompletionTime);
    }

    [Fact]
    public async Task IndexedJob_RunsEachIndexOnce()
    {
        await Runtime.CreateJobAsync(Template("indexed") with { Env = new Dictionary<string, string> { ["TASKS"] = "100,200,300,400,500" } });

        var job = await WaitForJobAsync("indexed", j => j.Condition == "Complete", "the Indexed Job to complete");
        Assert.Equal(5, job.Succeeded);
        var ran = job.Pods.Where(p => p.Phase == "Succeeded")
            .SelectMany(p => ((PiOps.Web.Local.LocalRuntime)((WorkloadActions)Runtime).Backend).Logs(p.Name)).Where(l => l.Text.StartsWith("got task: ")).Select(l => l.Text).Order().ToList();
        Assert.Equal(["got task: 100 (index 0)", "got task: 200 (index 1)", "got task: 300 (index 2)", "got task: 400 (index 3)", "got task: 500 (index 4)"], ran);
    }

    [Fact]
    public async Task BackoffLimit_FailsAJobWhosePodsKeepFailing()
    {
        var spec = Template("indexed") with
        {
            Name = "broken", Completions = 1, Parallelism = 1, BackoffLimit = 1,
            Env = new Dictionary<string, string> { ["TASKS"] = "not-a-number" },
        };

        await Runtime.CreateJobAsync(spec);

        var job = await WaitForJobAsync("broken", j => j.Condition == "Failed", "the Job to fail");
        Assert.Equal(2, job.Failed);
        Assert.StartsWith("BackoffLimitExceeded", job.Reason);
        Assert.Equal(0, job.Succeeded);
    }

    [Fact]
    public async Task FailingJob_GetsABackoffLimitExceededWarning_AndItsPodsTheirExitCodes()
    {
        var spec = Template("indexed") with
        {
            Name = "broken", Completions = 1, Parallelism = 1, BackoffLimit = 1, RestartPolicy = JobRestartPolicy.Never,
            Env = new Dictionary<string, string> { ["TASKS"] = "not-a-number" },
        };

        await Runtime.CreateJobAsync(spec);

        var job = await WaitForJobAsync("broken", j => j.Condition == "Failed", "the Job to fail");
        // Said on failure: every event of the Job and of its pods.
        string seen = string.Join(" | ", new[] { ("job", job.Events) }.Concat(job.Pods.Select(p => (p.Name, p.Events)))
            .Select(o => o.Item1 + ": " + string.Join(", ", o.Item2.Select(e => $"{e.Type} {e.Reason} '{e.Message}' x{e.Count} {e.At:O}"))));
        Assert.True(job.Events[0] is { Type: ObjectEvent.Warning, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit" }, seen);
        // Never: each failed pod is replaced, and the Job controller says so for each.
        Assert.True(job.Pods.Count == 2, seen);
        Assert.True(job.Pods.Select(p => $"Created pod: {p.Name}").Order().SequenceEqual(job.Events.Where(e => e.Reason == "SuccessfulCreate").Select(e => e.Message).Order()), seen);
        Assert.All(job.Pods, p =>
        {
            Assert.True(p.Events.Count == 2 && p.Events[1].Reason == "Started", seen);
            Assert.True(p.Events[0] is { Type: ObjectEvent.Warning, Reason: "Error" } exit
                        && exit.Message.StartsWith("The worker process exited with code ", StringComparison.Ordinal) && !exit.Message.EndsWith(" 0", StringComparison.Ordinal), seen);
        });
        Assert.Equal(3, job.Warnings);
    }

    [Fact]
    public async Task Rerun_CreatesAFreshJobWithTheSameSpec()
    {
        await Runtime.CreateJobAsync(Template("addwork"));
        var first = await WaitForJobAsync("addwork", j => j.Condition == "Complete", "addwork to complete");
        Assert.Equal(10, await server.Db.ListLengthAsync(Keys.Queue));

        await Runtime.RerunJobAsync("addwork");

        var second = await WaitForJobAsync("addwork", j => j.Condition == "Complete" && j.StartTime > first.StartTime, "the re-run to complete");
        Assert.Equal(first.Spec, second.Spec);
        Assert.Equal(1, second.Succeeded);
        Assert.Equal(20, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Create_RefusesADuplicateOrABadName_AndChangesNothing()
    {
        await Runtime.CreateJobAsync(Template("addwork") with { Name = "once" });

        var duplicate = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(Template("addwork") with { Name = "once" }));
        Assert.Contains("already exists", duplicate.Message);
        var bad = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(Template("addwork") with { Name = "Bad_Name" }));
        Assert.Contains("DNS-1123", bad.Message);
        await WaitForJobAsync("once", _ => true, "the first Job in the snapshot");
        Assert.Single(Runtime.Current.Jobs, j => j.Name == "once");
        Assert.DoesNotContain(Runtime.Current.Jobs, j => j.Name == "Bad_Name");
    }

    [Fact]
    public async Task Delete_RemovesTheJobAndStopsItsPods()
    {
        await Runtime.CreateJobAsync(Template("jobworker") with { Env = new Dictionary<string, string>() }); // never drains: runs until deleted
        var running = await WaitForJobAsync("jobworker", j => j.Active == 2, "two running pods");
        var pids = running.Pods.Select(p => p.Pid!.Value).ToList();

        await Runtime.DeleteJobAsync("jobworker");

        await Eventually.WaitAsync(() => Runtime.Current.Jobs.All(j => j.Name != "jobworker"), Wait,
            () => $"the Job with pods {string.Join(",", pids)} to be gone (snapshot at {Runtime.Current.At:O}, now {DateTimeOffset.UtcNow:O}: " +
                  string.Join("; ", Runtime.Current.Jobs.Select(Describe)) + ")");
        Assert.All(pids, pid => Assert.False(PiOps.Shared.Processes.PosixSignals.IsAlive(pid)));
    }
}
