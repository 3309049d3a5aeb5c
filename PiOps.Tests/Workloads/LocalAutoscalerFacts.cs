using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Workloads;

public sealed class LocalAutoscalerFacts
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Cpu_ScalesByTheRatioToTheTarget_AsTheHpa()
    {
        var a = new LocalAutoscaler(AutoscalerSpec.Book with { Enabled = true });
        a.ObserveCpu(70);
        a.ObserveCpu(90);
        // 2 pods at 80% against 20%: ceil(2 x 4) = 8.
        Assert.Equal(8, a.Evaluate(T0, 2, null));
        Assert.Contains("Scaled from 2 to 8", a.LastEvent);
        Assert.Equal(80, a.CpuPercent);
    }

    [Fact]
    public void Cpu_WithinTheTolerance_KeepsTheReplicas()
    {
        var a = new LocalAutoscaler(AutoscalerSpec.Book with { Enabled = true });
        a.ObserveCpu(21.5);
        Assert.Equal(4, a.Evaluate(T0, 4, null));
        Assert.Null(a.LastEvent);
    }

    [Fact]
    public void QueueLength_ScalesToLengthOverTargetPerReplica_BoundedByMax()
    {
        var a = new LocalAutoscaler(new AutoscalerSpec(true, 1, 6, null, 10, 0));
        Assert.Equal(4, a.Evaluate(T0, 1, 35));
        Assert.Equal(6, a.Evaluate(T0.AddSeconds(15), 4, 500));
        Assert.Contains("capped at the maximum of 6", a.Status);
    }

    [Fact]
    public void BothTargets_TheLargerRecommendationWins()
    {
        var a = new LocalAutoscaler(new AutoscalerSpec(true, 1, 10, 20, 10, 0));
        a.ObserveCpu(20);
        Assert.Equal(5, a.Evaluate(T0, 2, 50));
    }

    [Fact]
    public void ScaleDown_WaitsForTheStabilisationWindow_ScaleUpDoesNot()
    {
        var a = new LocalAutoscaler(new AutoscalerSpec(true, 1, 10, null, 10, 60));
        Assert.Equal(5, a.Evaluate(T0, 1, 50));
        // The queue empties: the recommendation of 5 made within the last 60 s holds the Deployment at 5.
        Assert.Equal(5, a.Evaluate(T0.AddSeconds(15), 5, 0));
        Assert.Contains("stabilisation window", a.Status);
        Assert.Equal(5, a.Evaluate(T0.AddSeconds(45), 5, 0));
        // Once it has left the window, down to the minimum.
        Assert.Equal(1, a.Evaluate(T0.AddSeconds(75), 5, 0));
        Assert.Contains("Scaled from 5 to 1", a.LastEvent);
    }

    [Fact]
    public void ZeroReplicas_TurnsScalingOff_AsTheHpa()
    {
        var a = new LocalAutoscaler(new AutoscalerSpec(true, 1, 10, null, 10, 0));
        Assert.Equal(0, a.Evaluate(T0, 0, 500));
        Assert.Contains("0 replicas", a.Status);
    }

    [Fact]
    public void UnknownQueueLength_KeepsTheReplicas()
    {
        var a = new LocalAutoscaler(new AutoscalerSpec(true, 1, 10, null, 10, 0));
        Assert.Equal(3, a.Evaluate(T0, 3, null));
        Assert.Contains("not known", a.Status);
    }

    [Theory]
    [InlineData(0, 10, 20, null, "Min replicas")]
    [InlineData(5, 4, 20, null, "Max replicas")]
    [InlineData(1, 40, 20, null, "Max replicas")]
    [InlineData(1, 10, null, null, "at least one target")]
    [InlineData(1, 10, 0, null, "CPU target")]
    [InlineData(1, 10, null, 0, "queue length per replica")]
    public void BadSpecs_AreRefusedWithASentence(int min, int max, int? cpu, int? queue, string expected) =>
        Assert.Contains(new AutoscalerSpec(true, min, max, cpu, queue, 300).Validate(32), p => p.Contains(expected, StringComparison.Ordinal));
}
