using System.Globalization;
using MudBlazor;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// Y axes that fit the data with a few round ticks (1, 2 or 5 × 10^k), thousands separated, and values on hover.
/// MudBlazor's tick spacing is a whole number (20 by default), which made 0.4/s a flat line on a 0-20 axis and
/// thinned depth ticks to 10240, 20480.
/// </summary>
public static class ChartAxis
{
    /// <summary>A round tick spacing that divides <paramref name="max"/> into about four steps; at least 1.</summary>
    public static int Step(double max)
    {
        if (double.IsNaN(max) || max <= 4)
        {
            return 1;
        }

        double raw = max / 4;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double n = raw / magnitude;
        double nice = n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10;
        return (int)Math.Min(int.MaxValue, Math.Max(1, nice * magnitude));
    }

    /// <summary>Options for a line chart whose values reach <paramref name="max"/> (or an axis top the page knows, such as the autoscaler's maximum).</summary>
    public static LineChartOptions Options(double max, string? title = null)
    {
        int step = Step(max);
        return new LineChartOptions
        {
            ShowLegend = true,
            ShowToolTips = true,
            YAxisTicks = step,
            MaxNumYAxisTicks = 8,
            YAxisSuggestedMax = Math.Max(step, Math.Ceiling(max / step) * step),
            YAxisRequireZeroPoint = true,
            YAxisToStringFunc = v => v.ToString("#,0.##", CultureInfo.InvariantCulture),
            YAxisTitle = title,
            ChartPalette = Layout.PiOpsTheme.ChartPalette,
        };
    }

    /// <summary>
    /// The values a chart shows on hover, as text shown under it and read by screen readers: each series' latest value
    /// and its highest over the chart's span, e.g. "waiting now 12, highest 300; in flight now 2, highest 4".
    /// </summary>
    public static string Summary(IEnumerable<(string Name, IReadOnlyList<double> Values)> series) =>
        string.Join("; ", series.Select(s => s.Values.Count == 0
            ? $"{s.Name}: no samples yet"
            : $"{s.Name} now {Number(s.Values[^1])}, highest {Number(s.Values.Max())}"));

    private static string Number(double v) => v.ToString("#,0.##", CultureInfo.InvariantCulture);

    /// <summary>Rates under 2 a second read better per minute on a whole-number axis.</summary>
    public static (double Factor, string Unit) RateUnit(double maxPerSecond) => maxPerSecond < 2 ? (60, "/min") : (1, "/s");
}
