using System.Globalization;
using Bunit;
using PiOps.Web.Components.Controls;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>
/// The Overview's trend lines: the values land where the axis says, the axis is round and fits the data, and the drawing
/// keeps a handful of elements however many points it shows (what it is for: an open page's memory, bench/README.md).
/// </summary>
public sealed class TrendChartFacts : BunitContext
{
    [Fact]
    public void EachSeries_IsOnePolyline_ThroughItsValues_OnARoundAxis()
    {
        var chart = Render<TrendChart>(p => p
            .Add(c => c.Series, [new TrendSeries("waiting", [0, 30, 120]), new TrendSeries("in flight", [2, 2, 0])])
            .Add(c => c.Labels, ["08:00:00", "", "08:00:02"])
            .Add(c => c.TestId, "depth-chart"));

        var lines = chart.FindAll("[data-testid=depth-chart] svg polyline");
        Assert.Equal(["waiting", "in flight"], lines.Select(l => l.GetAttribute("data-series")));
        var waiting = Points(lines[0]);
        Assert.Equal(3, waiting.Count);
        // 120 on a 0-150 axis of step 50 (ChartAxis.Step): y falls as the value rises, 0 on the axis' floor.
        double floor = TrendGeometry.Height - TrendGeometry.Bottom, ceiling = TrendGeometry.TopPad;
        Assert.Equal(floor, waiting[0].Y, 1);
        Assert.Equal(floor - (floor - ceiling) * 120 / 150, waiting[2].Y, 1);
        Assert.Equal([TrendGeometry.Left, TrendGeometry.Width - TrendGeometry.Right], [waiting[0].X, waiting[2].X]);
        Assert.Equal(["0", "50", "100", "150", "08:00:00", "08:00:02"], chart.FindAll("svg text").Select(t => t.TextContent));
        Assert.Equal(["waiting", "in flight"], chart.FindAll(".piops-trend-legend > span").Select(s => s.TextContent.Trim()));
    }

    [Fact]
    public void AHundredAndTwentyPoints_DrawNoMoreElementsThanTwo()
    {
        int Elements(int points) => Render<TrendChart>(p => p
                .Add(c => c.Series, [new TrendSeries("done/s", Enumerable.Range(0, points).Select(i => i % 2 * 6.0).ToArray())])
                .Add(c => c.Labels, Enumerable.Range(0, points).Select(i => i % 30 == 0 ? $"t{i}" : "").ToArray()))
            .FindAll("svg *").Count(e => e.TagName != "text");

        Assert.Equal(Elements(2), Elements(120));
    }

    [Fact]
    public void Ticks_StayFew_AndValuesPastTheTopOrNotNumbersStayInsideTheChart()
    {
        var geometry = TrendGeometry.Of([new TrendSeries("x", [double.NaN, 1_234_567, double.PositiveInfinity, -5])], []);

        Assert.InRange(geometry.YTicks.Count, 2, 9);
        Assert.True(geometry.Top >= 1_234_567);
        foreach (var point in geometry.Lines[0].Split(' ').Select(p => double.Parse(p.Split(',')[1], CultureInfo.InvariantCulture)))
        {
            Assert.InRange(point, TrendGeometry.TopPad, TrendGeometry.Height - TrendGeometry.Bottom);
        }
    }

    private static List<(double X, double Y)> Points(AngleSharp.Dom.IElement polyline) =>
        polyline.GetAttribute("points")!.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .Select(v => (v[0], v[1])).ToList();
}
