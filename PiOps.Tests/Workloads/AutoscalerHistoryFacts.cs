using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Workloads;

/// <summary>The autoscaler's chart, as both runtimes keep it: a point a second, for Dashboard:History.</summary>
public sealed class AutoscalerHistoryFacts
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Record_TakesAPointASecond_AndIgnoresSamplesInBetween()
    {
        var history = new AutoscalerHistory(TimeSpan.FromMinutes(5));

        Assert.True(history.Record(T0, 1, 1, 10));
        Assert.False(history.Record(T0.AddMilliseconds(250), 2, 2, 20));
        Assert.False(history.Record(T0.AddMilliseconds(999), 2, 2, 20));
        Assert.True(history.Record(T0.AddSeconds(1), 3, 4, 30));

        Assert.Equal([new AutoscalerPoint(T0, 1, 1, 10), new AutoscalerPoint(T0.AddSeconds(1), 3, 4, 30)], history.Points);
    }

    [Fact]
    public void Record_KeepsOnlyTheLengthConfigured()
    {
        var history = new AutoscalerHistory(TimeSpan.FromMinutes(1));

        for (int s = 0; s <= 600; s++)
        {
            history.Record(T0.AddSeconds(s), 1, 1, s);
        }

        Assert.Equal(61, history.Points.Count);
        Assert.Equal(T0.AddSeconds(540), history.Points[0].At);
        Assert.Equal(600, history.Points[^1].QueueDepth);
    }

    [Fact]
    public void Points_IsACopy_ThatLaterPointsDoNotChange()
    {
        var history = new AutoscalerHistory(TimeSpan.FromMinutes(5));
        history.Record(T0, 1, 1, 0);
        var shown = history.Points;

        history.Record(T0.AddSeconds(1), 2, 2, 0);

        Assert.Single(shown);
        Assert.Equal(2, history.Points.Count);
    }
}
