using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Components;

namespace PiOps.Web.Components.Controls;

/// <summary>One line of a <see cref="TrendChart"/>: its name in the legend and its values, oldest first.</summary>
public sealed record TrendSeries(string Name, IReadOnlyList<double> Values);

/// <summary>
/// A line chart of a few series sampled at the same instants, drawn as one polyline each on a y axis of round ticks
/// (<see cref="ChartAxis.Step"/>). It keeps a handful of SVG elements whatever the number of points.
/// </summary>
public sealed partial class TrendChart
{
    /// <summary>The series, drawn in the order of <see cref="Layout.PiOpsTheme.ChartPalette"/>.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<TrendSeries> Series { get; set; } = [];

    /// <summary>A label per point, empty where none is wanted (e.g. a clock time every 30 points).</summary>
    [Parameter] public IReadOnlyList<string> Labels { get; set; } = [];

    [Parameter] public string Height { get; set; } = "240px";

    [Parameter] public string? TestId { get; set; }

    private TrendGeometry _geometry = TrendGeometry.Of([], []);

    protected override void OnParametersSet() => _geometry = TrendGeometry.Of(Series, Labels);

    private static string Colour(int i) => Layout.PiOpsTheme.ChartPalette[i % Layout.PiOpsTheme.ChartPalette.Length];

    private static string Format(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    // An SVG <text> as markup: Razor takes <text> for its own tag inside code blocks.
    private static MarkupString Text(double x, double y, string anchor, string content) =>
        new($"<text x=\"{Format(x)}\" y=\"{Format(y)}\" text-anchor=\"{anchor}\">{WebUtility.HtmlEncode(content)}</text>");
}

/// <summary>Where a <see cref="TrendChart"/>'s ticks, labels and lines go in its view box (pure, for tests).</summary>
public sealed record TrendGeometry(IReadOnlyList<(double Y, string Label)> YTicks, IReadOnlyList<(double X, string Text)> XLabels, IReadOnlyList<string> Lines, double Top)
{
    public const double Width = 650, Height = 300, Left = 64, Right = 24, TopPad = 16, Bottom = 28;

    /// <summary>At most this many y ticks above zero: the step doubles until they fit.</summary>
    private const int MaxTicks = 8;

    public static TrendGeometry Of(IReadOnlyList<TrendSeries> series, IReadOnlyList<string> labels)
    {
        double max = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        double step = ChartAxis.Step(max);
        while (Math.Ceiling(max / step) > MaxTicks)
        {
            step *= 2;
        }

        double top = Math.Max(step, Math.Ceiling(max / step) * step);
        double plotHeight = Height - TopPad - Bottom;
        double Y(double v) => Height - Bottom - Math.Clamp(double.IsFinite(v) ? v : 0, 0, top) / top * plotHeight;

        var ticks = new List<(double, string)>();
        for (double v = 0; v <= top + step / 2; v += step)
        {
            ticks.Add((Y(v), v.ToString("#,0.##", CultureInfo.InvariantCulture)));
        }

        int points = series.Select(s => s.Values.Count).DefaultIfEmpty(0).Max();
        double plotWidth = Width - Left - Right;
        double X(int i) => points <= 1 ? Left : Left + i * plotWidth / (points - 1);

        var xLabels = labels.Take(points).Select((text, i) => (X(i), text)).Where(l => l.text.Length > 0).ToList();
        var lines = series.Select(s => string.Join(' ', s.Values.Select((v, i) =>
            string.Create(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(v):0.#}")))).ToList();
        return new TrendGeometry(ticks, xLabels, lines, top);
    }
}
