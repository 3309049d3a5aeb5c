using PiOps.Web.Components.Controls;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>Chart axes fit the data with a few round ticks, and slow rates are read per minute.</summary>
public sealed class ChartAxisFacts
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(4, 1)]
    [InlineData(24, 5)]
    [InlineData(120, 50)]
    [InlineData(25_000, 5_000)]
    [InlineData(1_000_000, 200_000)]
    public void Step_IsRound_AndGivesAFewTicks(double max, int step)
    {
        Assert.Equal(step, ChartAxis.Step(max));
        Assert.InRange(Math.Ceiling(Math.Max(max, 1) / step), 1, 5);
    }

    [Fact]
    public void ReplicasUpToFour_RunToFour_NotTwenty()
    {
        var options = ChartAxis.Options(4);
        Assert.Equal(1, options.YAxisTicks);
        Assert.Equal(4, options.YAxisSuggestedMax);
        Assert.True(options.ShowToolTips);
    }

    [Fact]
    public void ARateOfAFewTenthsPerSecond_IsShownPerMinute_OnAnAxisThatFitsIt()
    {
        var (factor, unit) = ChartAxis.RateUnit(0.4);
        Assert.Equal(("/min", 60.0), (unit, factor));
        var options = ChartAxis.Options(0.4 * factor);
        Assert.Equal(5, options.YAxisTicks);
        Assert.Equal(25, options.YAxisSuggestedMax);
        Assert.Equal(("/s", 1.0), (ChartAxis.RateUnit(40).Unit, ChartAxis.RateUnit(40).Factor));
        Assert.Equal("20,480", options.YAxisToStringFunc!(20480));
    }

    [Fact]
    public void Summary_SaysEachSeriesLatestAndHighestValue_AsTextNotOnHoverOnly()
    {
        string summary = ChartAxis.Summary([("waiting", [3, 300, 12]), ("in flight", [0, 4, 2.5]), ("failed/s", [])]);

        Assert.Equal("waiting now 12, highest 300; in flight now 2.5, highest 4; failed/s: no samples yet", summary);
    }

    [Fact]
    public void Lines_UseTheThemesPalette_WhichMeetsNonTextContrast()
    {
        Assert.Equal(PiOps.Web.Components.Layout.PiOpsTheme.ChartPalette, ChartAxis.Options(10).ChartPalette);
    }
}
