using PiOps.Web.Queue;
using Xunit;

namespace PiOps.Tests.Live;

/// <summary>
/// An idle queue's chart renders every 10 s, not every second: a new history point with the values of the last one
/// shown is nothing new until the shown chart is <see cref="QueueSnapshot.ChartSlide"/> old; a point with new values is
/// news at once.
/// </summary>
public sealed class ChartSlideFacts
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);

    private static QueueSnapshot With(params HistoryPoint[] points) => QueueSnapshot.Empty with { History = points };

    private static HistoryPoint Point(int second, long depth = 5) => new(T0.AddSeconds(second), depth, 0, 0, 0);

    [Fact]
    public void AFlatPoint_IsNoRender_UntilTheChartIsTenSecondsOld()
    {
        var shown = With(Point(0), Point(1));
        Assert.False(With(Point(0), Point(1), Point(2)).LooksDifferentFrom(shown));
        Assert.False(With(Point(1), Point(2), Point(10)).LooksDifferentFrom(shown));
        Assert.True(With(Point(2), Point(10), Point(11)).LooksDifferentFrom(shown));
    }

    [Fact]
    public void APointWithNewValues_IsARender_AtOnce()
    {
        var shown = With(Point(0), Point(1));
        Assert.True(With(Point(0), Point(1), Point(2, depth: 6)).LooksDifferentFrom(shown));
        Assert.True(With(Point(0), Point(1), new HistoryPoint(T0.AddSeconds(2), 5, 0.5, 0, 0)).LooksDifferentFrom(shown));
    }

    [Fact]
    public void TheFirstPoint_IsARender()
    {
        Assert.True(With(Point(0)).LooksDifferentFrom(With()));
        Assert.False(With().LooksDifferentFrom(With()));
    }
}
