using PiOps.Web.Components.Controls;
using PiOps.Web.Queue;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>The Overview's one line: the first problem it sees, with where to look.</summary>
public sealed class OverviewHealthFacts
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static QueueSnapshot Queue(long depth = 0, int workers = 1, double failed = 0, bool paused = false, bool available = true,
        IReadOnlyList<HistoryPoint>? history = null) => QueueSnapshot.Empty with
    {
        At = Now,
        RedisAvailable = available,
        Depth = depth,
        FailedPerSecond = failed,
        Paused = paused,
        History = history ?? [],
        Workers = [.. Enumerable.Range(0, workers).Select(i => new WorkerView($"w{i}", "pod", 1, "idle", null, 0, 0, Now, Now, false, null))],
    };

    private static PodView Pod(string name, string phase) => new(name, phase, phase == "Running", 3, Now, 0, 0, "node", null, phase == "CrashLoopBackOff" ? "exited with 1" : null);

    private static WorkloadSnapshot Workloads(IReadOnlyList<PodView>? pods = null, IReadOnlyList<JobView>? jobs = null, AutoscalerView? autoscaler = null) =>
        WorkloadSnapshot.Empty with { Workers = new DeploymentView("pi-worker", 1, 1, 1, pods ?? []), Jobs = jobs ?? [], Autoscaler = autoscaler };

    [Fact]
    public void AllWell_SaysSo()
    {
        var line = OverviewHealth.Assess(Queue(), Workloads(), Now);
        Assert.False(line.Problem);
        Assert.StartsWith("No problem seen", line.Text);
    }

    [Fact]
    public void Redis_Down_ComesFirst()
    {
        var line = OverviewHealth.Assess(Queue(available: false), Workloads([Pod("p", "CrashLoopBackOff")]), Now);
        Assert.StartsWith("Redis is not answering", line.Text);
    }

    [Fact]
    public void ACrashLoopingWorker_IsNamed_WithItsLogs()
    {
        var line = OverviewHealth.Assess(Queue(), Workloads([Pod("pi-worker-x", "Running"), Pod("pi-worker-y", "CrashLoopBackOff")]), Now);
        Assert.True(line.Problem);
        Assert.Contains("pi-worker-y is crash-looping", line.Text);
        Assert.Equal("logs?target=pod%2Fpi-worker-y", line.Href);
    }

    [Fact]
    public void ARecentlyFailedJob_IsNamed()
    {
        var job = new JobView(JobSpec.Templates[0].Spec, 0, 0, 3, "Failed", "BackoffLimitExceeded", Now.AddMinutes(-10), Now.AddMinutes(-5), []);
        var line = OverviewHealth.Assess(Queue(), Workloads(jobs: [job]), Now);
        Assert.Equal("Job jobworker failed (BackoffLimitExceeded).", line.Text);
        Assert.Equal("jobs", line.Href);
        Assert.False(OverviewHealth.Assess(Queue(), Workloads(jobs: [job with { StartTime = Now.AddHours(-3), CompletionTime = Now.AddHours(-2) }]), Now).Problem);
    }

    [Fact]
    public void TasksWaiting_WithNoWorker_IsSaid()
    {
        Assert.Equal("12 task(s) wait and no worker is alive.", OverviewHealth.Assess(Queue(depth: 12, workers: 0), Workloads(), Now).Text);
    }

    [Fact]
    public void AQueueGrowingFasterThanItDrains_IsSaid()
    {
        var history = new[] { new HistoryPoint(Now.AddSeconds(-60), 100, 1, 0, 1), new HistoryPoint(Now.AddSeconds(-30), 400, 1, 0, 1) };
        var line = OverviewHealth.Assess(Queue(depth: 700, history: history), Workloads(), Now);
        Assert.StartsWith("The queue grows faster than it drains: +600 in", line.Text);
        Assert.False(OverviewHealth.Assess(Queue(depth: 105, history: history), Workloads(), Now).Problem);
    }

    [Fact]
    public void DeadLettering_AutoscalerAtItsMaximum_AndPause_AreSaid()
    {
        Assert.StartsWith("Tasks are being dead-lettered", OverviewHealth.Assess(Queue(failed: 0.5), Workloads(), Now).Text);
        var atMax = new AutoscalerView(AutoscalerSpec.Book with { Enabled = true, MaxReplicas = 4 }, "local", 4, 4, null, 50, null, null, null, []);
        Assert.StartsWith("The autoscaler is at its maximum of 4", OverviewHealth.Assess(Queue(depth: 50), Workloads(autoscaler: atMax), Now).Text);
        Assert.StartsWith("The queue is paused", OverviewHealth.Assess(Queue(depth: 50, paused: true), Workloads(), Now).Text);
    }
}
