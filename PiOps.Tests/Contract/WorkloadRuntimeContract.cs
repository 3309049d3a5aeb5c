using PiOps.Web;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Contract;

/// <summary>
/// What every <see cref="IWorkloadRuntime"/> promises the pages, whatever runs the workloads: the same actions, the same
/// refusals as sentences, the same meanings in the snapshot. Subclasses start one runtime per test. Facts wait, with
/// bounds, for the snapshot to show a change, since runtimes apply changes on their own time.
/// </summary>
public abstract class WorkloadRuntimeContract : IAsyncLifetime
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    protected abstract IWorkloadRuntime Runtime { get; }

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>
    /// Moves the CronJob's status, and with it its version, as its controller does when a run starts or ends; its spec
    /// stays. (Every write of an object, status included, gives it a new metadata.resourceVersion.)
    /// </summary>
    protected abstract Task MoveCronJobStatusAsync(string name);

    /// <summary>
    /// Makes the autoscaler's status move (a scaling), and with it its version; its spec stays. The autoscaler is on
    /// with <see cref="QueueScaling"/>, and the workers have one replica.
    /// </summary>
    protected abstract Task MoveAutoscalerStatusAsync();

    /// <summary>An autoscaler on the queue's length: 1 to 2 replicas, 10 tasks per replica.</summary>
    protected static AutoscalerSpec QueueScaling { get; } = new(true, 1, 2, null, 10, 300);

    /// <summary>A Job whose pods keep running until it is deleted (workers of a queue that never drains here).</summary>
    protected static JobSpec LongRunning(string name, int parallelism = 2) =>
        new(name, JobCommand.Worker, parallelism, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string> { ["CONTRACT"] = "yes" });

    protected static CronJobSpec Cron(string name, bool suspend = true) =>
        CronJobSpec.BookAddWork with { Name = name, Suspend = suspend };

    protected IEnumerable<PodView> AllPods(WorkloadSnapshot s) => s.Workers.Pods.Concat(s.Jobs.SelectMany(j => j.Pods));

    protected Task<JobView> WaitForJobAsync(string name, Func<JobView, bool> condition, string what) =>
        Task.Run(async () =>
        {
            JobView? found = null;
            await Eventually.WaitAsync(() => (found = Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)) is { } j && condition(j), Wait,
                () => $"{what} (Job {name} now: {Runtime.Current.Jobs.FirstOrDefault(j => j.Name == name)})");
            return found!;
        });

    protected Task<CronJobView> WaitForCronJobAsync(string name, Func<CronJobView, bool> condition, string what) =>
        Task.Run(async () =>
        {
            CronJobView? found = null;
            await Eventually.WaitAsync(() => (found = Runtime.Current.CronJobs.FirstOrDefault(c => c.Name == name)) is { } c && condition(c), Wait,
                () => $"{what} (CronJob {name} now: {Runtime.Current.CronJobs.FirstOrDefault(c => c.Name == name)})");
            return found!;
        });

    protected static void AssertSameSpec(JobSpec expected, JobSpec actual)
    {
        Assert.Equal(expected with { Env = new Dictionary<string, string>() }, actual with { Env = new Dictionary<string, string>() }, new SpecWithoutEnv());
        Assert.Equal(expected.Env.OrderBy(e => e.Key), actual.Env.OrderBy(e => e.Key));
    }

    private sealed class SpecWithoutEnv : IEqualityComparer<JobSpec>
    {
        public bool Equals(JobSpec? x, JobSpec? y) =>
            x is not null && y is not null && (x.Name, x.Command, x.Parallelism, x.Completions, x.Indexed, x.BackoffLimit, x.RestartPolicy, x.AddTasksCount)
            == (y.Name, y.Command, y.Parallelism, y.Completions, y.Indexed, y.BackoffLimit, y.RestartPolicy, y.AddTasksCount);

        public int GetHashCode(JobSpec obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateJob_ShowsUpWithItsSpecAndPods()
    {
        var spec = LongRunning("contract-create");

        await Runtime.CreateJobAsync(spec);

        var job = await WaitForJobAsync("contract-create", j => j.Pods.Count == 2, "the Job with two pods");
        AssertSameSpec(spec, job.Spec);
        Assert.Null(job.Condition);
        Assert.Null(job.CronJob);
    }

    [Fact]
    public async Task CreateJob_RefusesADuplicateName_WithASentence()
    {
        await Runtime.CreateJobAsync(LongRunning("contract-twice", 1));
        await WaitForJobAsync("contract-twice", _ => true, "the first Job");

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(LongRunning("contract-twice", 1)));

        Assert.Contains("A Job named contract-twice already exists", ex.Message);
        Assert.Single(Runtime.Current.Jobs, j => j.Name == "contract-twice");
    }

    [Fact]
    public async Task CreateJob_RefusesAnInvalidName_AndChangesNothing()
    {
        var before = Runtime.Current.Jobs.Select(j => j.Name).ToList();

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(LongRunning("Bad_Name")));

        Assert.Contains("DNS-1123", ex.Message);
        Assert.Contains("Nothing was created", ex.Message);
        Assert.Equal(before, Runtime.Current.Jobs.Select(j => j.Name).ToList());
    }

    [Fact]
    public async Task DeleteJob_RemovesItAndItsPods()
    {
        await Runtime.CreateJobAsync(LongRunning("contract-delete"));
        var job = await WaitForJobAsync("contract-delete", j => j.Pods.Count == 2, "two pods");
        var pods = job.Pods.Select(p => p.Name).ToList();

        await Runtime.DeleteJobAsync("contract-delete");

        await Eventually.WaitAsync(() => Runtime.Current.Jobs.All(j => j.Name != "contract-delete") && !AllPods(Runtime.Current).Any(p => pods.Contains(p.Name)), Wait,
            () => $"the Job and its pods {string.Join(",", pods)} gone (jobs now: {string.Join("; ", Runtime.Current.Jobs.Select(j => j.Name))})");
    }

    [Fact]
    public async Task DeleteJob_OfAMissingJob_SaysItIsGone()
    {
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.DeleteJobAsync("contract-never-was"));

        Assert.Contains("There is no Job named contract-never-was", ex.Message);
    }

    [Fact]
    public async Task Rerun_CreatesAFreshJobWithTheSameSpec()
    {
        var spec = LongRunning("contract-rerun", 1);
        await Runtime.CreateJobAsync(spec);
        var first = await WaitForJobAsync("contract-rerun", j => j.Pods.Count == 1, "the first run's pod");
        var firstPods = first.Pods.Select(p => p.Name).ToHashSet();

        await Runtime.RerunJobAsync("contract-rerun");

        var second = await WaitForJobAsync("contract-rerun", j => j.Pods.Count == 1 && !j.Pods.Any(p => firstPods.Contains(p.Name)), "a fresh run with a new pod");
        AssertSameSpec(spec, second.Spec);
        Assert.Null(second.Condition);
        Assert.Single(Runtime.Current.Jobs, j => j.Name == "contract-rerun");
    }

    [Fact]
    public async Task CronJob_CreateSuspendResumeReschedule_ShowInTheSnapshot()
    {
        await Runtime.CreateCronJobAsync(Cron("contract-cron"));
        var created = await WaitForCronJobAsync("contract-cron", _ => true, "the CronJob");
        Assert.True(created.Spec.Suspend);
        Assert.Equal("*/5 * * * *", created.Spec.Schedule);

        await Runtime.SuspendCronJobAsync("contract-cron", false);
        await WaitForCronJobAsync("contract-cron", c => !c.Spec.Suspend, "resumed");

        await Runtime.SuspendCronJobAsync("contract-cron", true);
        await WaitForCronJobAsync("contract-cron", c => c.Spec.Suspend, "suspended again");

        await Runtime.UpdateCronJobAsync(Cron("contract-cron") with { Schedule = "0 3 * * *", SuccessfulJobsHistoryLimit = 5 });
        var updated = await WaitForCronJobAsync("contract-cron", c => c.Spec.Schedule == "0 3 * * *", "the new schedule");
        Assert.Equal(5, updated.Spec.SuccessfulJobsHistoryLimit);
        AssertSameSpec(CronJobSpec.BookAddWork.JobTemplate with { Name = "contract-cron" }, updated.Spec.JobTemplate with { Name = "contract-cron" });
    }

    [Fact]
    public async Task CronJob_EditFromAStaleForm_IsRefused_AndTheOtherOperatorsChangeStays()
    {
        await Runtime.CreateCronJobAsync(Cron("contract-stale"));
        var opened = await WaitForCronJobAsync("contract-stale", c => c.ResourceVersion is not null, "the CronJob with its version");
        // Two operators open the edit form on the same CronJob.
        var first = opened.Spec with { Schedule = "0 3 * * *", ResourceVersion = opened.ResourceVersion };
        var second = opened.Spec with { SuccessfulJobsHistoryLimit = 7, ResourceVersion = opened.ResourceVersion };

        await Runtime.UpdateCronJobAsync(first);
        await WaitForCronJobAsync("contract-stale", c => c.Spec.Schedule == "0 3 * * *", "the first save");
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.UpdateCronJobAsync(second));

        Assert.True(ex.Stale, ex.Message);
        Assert.Contains("Someone else changed the CronJob contract-stale after this form was opened", ex.Message);
        var now = Runtime.Current.CronJobs.Single(c => c.Name == "contract-stale");
        Assert.Equal("0 3 * * *", now.Spec.Schedule);
        Assert.Equal(opened.Spec.SuccessfulJobsHistoryLimit, now.Spec.SuccessfulJobsHistoryLimit);

        // Reloaded, the second operator's form saves, on top of the first change.
        await Runtime.UpdateCronJobAsync(now.Spec with { SuccessfulJobsHistoryLimit = 7, ResourceVersion = now.ResourceVersion });
        var saved = await WaitForCronJobAsync("contract-stale", c => c.Spec.SuccessfulJobsHistoryLimit == 7, "the reloaded save");
        Assert.Equal("0 3 * * *", saved.Spec.Schedule);
    }

    [Fact]
    public async Task CronJob_EditAfterOnlyItsStatusMoved_IsSaved_WhenTheSpecItWasOpenedOnIsGiven()
    {
        await Runtime.CreateCronJobAsync(Cron("contract-status"));
        var opened = await WaitForCronJobAsync("contract-status", c => c.ResourceVersion is not null, "the CronJob with its version");
        var edit = opened.Spec with { Schedule = "0 4 * * *", ResourceVersion = opened.ResourceVersion };

        await MoveCronJobStatusAsync("contract-status");
        var moved = await WaitForCronJobAsync("contract-status", c => c.ResourceVersion != opened.ResourceVersion, "the status moved");
        Assert.Equal(Runtime.CronJobManifest(opened.Spec), Runtime.CronJobManifest(moved.Spec));

        // Without the spec it was opened on, a newer version cannot be told from another operator's edit: refused.
        var refused = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.UpdateCronJobAsync(edit));
        Assert.True(refused.Stale, refused.Message);
        // With it, the newer version is seen to differ in status only, and the edit is saved onto it.
        await Runtime.UpdateCronJobAsync(edit, openedOn: opened.Spec);
        await WaitForCronJobAsync("contract-status", c => c.Spec.Schedule == "0 4 * * *", "the edit saved");
    }

    [Fact]
    public async Task CronJob_RunNow_StartsAJobOwnedByIt_AndDeleteTakesItsJobs()
    {
        await Runtime.CreateCronJobAsync(Cron("contract-now"));
        await WaitForCronJobAsync("contract-now", _ => true, "the CronJob");

        string jobName = await Runtime.RunCronJobNowAsync("contract-now");

        Assert.StartsWith("contract-now-manual-", jobName);
        Assert.True(jobName.Length <= 63);
        var job = await WaitForJobAsync(jobName, _ => true, "the manual run");
        Assert.Equal("contract-now", job.CronJob);
        Assert.Equal(CronJobSpec.BookAddWork.JobTemplate.Command, job.Spec.Command);

        await Runtime.DeleteCronJobAsync("contract-now");

        await Eventually.WaitAsync(() => Runtime.Current.CronJobs.All(c => c.Name != "contract-now") && Runtime.Current.Jobs.All(j => j.Name != jobName), Wait,
            () => $"the CronJob and its Job gone (jobs now: {string.Join("; ", Runtime.Current.Jobs.Select(j => j.Name))})");
    }

    [Fact]
    public async Task CronJob_BadSchedule_IsRefused_AndNothingIsCreated()
    {
        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateCronJobAsync(Cron("contract-bad") with { Schedule = "every tuesday" }));

        Assert.Contains("Nothing was changed", ex.Message);
        Assert.DoesNotContain(Runtime.Current.CronJobs, c => c.Name == "contract-bad");
    }

    [Fact]
    public async Task CronJob_Duplicate_IsRefused_WithASentence()
    {
        await Runtime.CreateCronJobAsync(Cron("contract-dup"));

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateCronJobAsync(Cron("contract-dup")));

        Assert.Contains("A CronJob named contract-dup already exists", ex.Message);
    }

    [Fact]
    public async Task Autoscaler_IsSet_AndAnInvalidOneIsRefused()
    {
        var spec = AutoscalerSpec.Book with { Enabled = true, MinReplicas = 1, MaxReplicas = 3 };

        await Runtime.SetAutoscalerAsync(spec);

        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.Enabled: true } a && a.Spec.MaxReplicas == 3, Wait,
            () => $"the autoscaler on (now: {Runtime.Current.Autoscaler?.Spec})");
        var shown = Runtime.Current.Autoscaler!.Spec;
        Assert.Equal((1, 3, 20, 300), (shown.MinReplicas, shown.MaxReplicas, shown.TargetCpuPercent ?? 0, shown.ScaleDownStabilizationSeconds));

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.SetAutoscalerAsync(spec with { MinReplicas = 4 }));
        Assert.Contains("Max replicas must be from min replicas (4)", ex.Message);
        Assert.Equal(3, Runtime.Current.Autoscaler!.Spec.MaxReplicas);
    }

    [Fact]
    public async Task Autoscaler_EditFromAStaleForm_IsRefused_AndTheOtherOperatorsChangeStays()
    {
        await Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = true, MinReplicas = 1, MaxReplicas = 3 });
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.Enabled: true, Spec.MaxReplicas: 3, ResourceVersion: not null }, Wait, "the autoscaler on");

        // Two operators open the form on the same version. The autoscaler's own scaling may give it a newer version
        // meanwhile; with the spec the forms were opened on, that is no refusal.
        AutoscalerView opened = Runtime.Current.Autoscaler!;
        await Runtime.SetAutoscalerAsync(opened.Spec with { MaxReplicas = 4, ResourceVersion = opened.ResourceVersion }, openedOn: opened.Spec);

        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.MaxReplicas: 4 }, Wait, "the first save");
        var refused = await Assert.ThrowsAsync<OperatorActionException>(() =>
            Runtime.SetAutoscalerAsync(opened.Spec with { ScaleDownStabilizationSeconds = 60, ResourceVersion = opened.ResourceVersion }, openedOn: opened.Spec));

        Assert.True(refused.Stale, refused.Message);
        Assert.Contains("after this form was opened, so your save was refused", refused.Message);
        Assert.Equal((4, 300), (Runtime.Current.Autoscaler!.Spec.MaxReplicas, Runtime.Current.Autoscaler.Spec.ScaleDownStabilizationSeconds));
    }

    [Fact]
    public async Task Autoscaler_EditAfterOnlyItsStatusMoved_IsSaved_WhenTheSpecItWasOpenedOnIsGiven()
    {
        // The HPA controller writes its status at every change of a metric or of the replicas, each a new version: a
        // form open for a minute on a busy cluster was always refused before.
        await Runtime.ScaleAsync(1);
        await Eventually.WaitAsync(() => Runtime.Current.Workers.Desired == 1, Wait, "one replica");
        await Runtime.SetAutoscalerAsync(QueueScaling);
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.Enabled: true, Spec.TargetQueueLengthPerReplica: 10, ResourceVersion: not null },
            Wait, () => $"the autoscaler on (now: {Runtime.Current.Autoscaler})");
        var opened = Runtime.Current.Autoscaler!;
        var edit = opened.Spec with { ScaleDownStabilizationSeconds = 120, ResourceVersion = opened.ResourceVersion };

        await MoveAutoscalerStatusAsync();
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler?.ResourceVersion != opened.ResourceVersion, Wait,
            () => $"the autoscaler's status moved (now: {Runtime.Current.Autoscaler})");
        Assert.Equal(opened.Spec with { ResourceVersion = null }, Runtime.Current.Autoscaler!.Spec with { ResourceVersion = null });

        var refused = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.SetAutoscalerAsync(edit));
        Assert.True(refused.Stale, refused.Message);
        await Runtime.SetAutoscalerAsync(edit, openedOn: opened.Spec);
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.ScaleDownStabilizationSeconds: 120 }, Wait,
            () => $"the edit saved (now: {Runtime.Current.Autoscaler})");
        Assert.Equal((1, 2, 10), (Runtime.Current.Autoscaler!.Spec.MinReplicas, Runtime.Current.Autoscaler.Spec.MaxReplicas,
            Runtime.Current.Autoscaler.Spec.TargetQueueLengthPerReplica ?? 0));
    }

    [Fact]
    public async Task Scale_IsRefused_WhileAnAutoscalerGovernsTheDeployment()
    {
        await Runtime.SetAutoscalerAsync(AutoscalerSpec.Book with { Enabled = true, MinReplicas = 1, MaxReplicas = 2 });
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler is { Spec.Enabled: true }, Wait, "the autoscaler on");

        var ex = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.ScaleAsync(3));

        Assert.Contains("The autoscaler sets the replicas (1 to 2)", ex.Message);
        Assert.Contains("Nothing was changed", ex.Message);
    }

    [Fact]
    public async Task Scale_SetsTheDesiredReplicas()
    {
        await Runtime.ScaleAsync(1);

        await Eventually.WaitAsync(() => Runtime.Current.Workers.Desired == 1 && Runtime.Current.Workers.Pods.Count(p => p.Phase != "Terminating") == 1, Wait,
            () => $"one desired and one pod (now: {Runtime.Current.Workers.Desired}, pods {string.Join(",", Runtime.Current.Workers.Pods.Select(p => p.Name + ":" + p.Phase))})");
    }
}
