using PiOps.Web.Logs;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Logs;

/// <summary>An empty log pane always says why, and what is still there.</summary>
public sealed class LogPaneExplanationFacts
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly TailedPod Pod = new("pi-worker-abc-x7k2p", 0, false, null);

    private static string? Explain(LogTarget target, WorkloadSnapshot? snapshot = null, bool local = true, IReadOnlyList<TailedPod>? pods = null,
        IReadOnlyList<LogLine>? kept = null, DateTimeOffset? around = null, bool filtered = false) =>
        LogPaneExplanation.Explain(target, snapshot ?? WorkloadSnapshot.Empty, local, pods ?? [], kept ?? [], around, filtered, 2000);

    [Fact]
    public void APodThatIsGone_IsNamed_WithWhatTheRuntimeKeeps()
    {
        string local = Explain(new LogTarget(LogTargetKind.Pod, "pi-worker-abc-gone1"))!;
        Assert.StartsWith("Pod pi-worker-abc-gone1 does not exist now", local);
        Assert.Contains("last 2,000 lines while the pod exists", local);
        Assert.Contains("Tasks page", local);
        Assert.Contains("only while its pod exists", Explain(new LogTarget(LogTargetKind.Pod, "p"), local: false));
    }

    [Fact]
    public void AJob_WithoutPods_OrGone_IsToldApart()
    {
        var job = new JobView(JobSpec.Templates[1].Spec, 0, 1, 0, "Complete", null, Now, Now, []);
        var snapshot = WorkloadSnapshot.Empty with { Jobs = [job] };
        Assert.StartsWith("Job addwork has no pods now", Explain(new LogTarget(LogTargetKind.Job, "addwork"), snapshot));
        Assert.StartsWith("There is no Job other now", Explain(new LogTarget(LogTargetKind.Job, "other"), snapshot));
        Assert.Contains("scaled to 0", Explain(new LogTarget(LogTargetKind.Deployment, "pi-worker")));
    }

    [Fact]
    public void AWindowBeforeTheOldestLineKept_SaysTheTaskRanBeforeIt()
    {
        var kept = new[] { new LogLine(Now, Pod.Name, false, "got task"), new LogLine(Now.AddMinutes(1), Pod.Name, false, "done") };
        string text = Explain(new LogTarget(LogTargetKind.Pod, Pod.Name), pods: [Pod], kept: kept, around: Now.AddMinutes(-30))!;
        Assert.Contains("No line between", text);
        Assert.Contains("2 line(s) are kept", text);
        Assert.Contains("the task ran before the oldest line kept", text);
    }

    [Fact]
    public void Filters_ThatHideEveryLine_AreSaid_AndAPaneWithLinesNeedsNoSentence()
    {
        var kept = new[] { new LogLine(Now, Pod.Name, false, "got task") };
        Assert.StartsWith("No line matches the filters", Explain(new LogTarget(LogTargetKind.Pod, Pod.Name), pods: [Pod], kept: kept, filtered: true));
        Assert.Null(Explain(new LogTarget(LogTargetKind.Pod, Pod.Name), pods: [Pod], kept: kept));
        Assert.StartsWith("No lines yet", Explain(new LogTarget(LogTargetKind.Pod, Pod.Name), pods: [Pod]));
        Assert.Contains("forbidden", Explain(new LogTarget(LogTargetKind.Pod, Pod.Name), pods: [Pod with { Problem = "forbidden: cannot get pods/log" }]));
    }
}
