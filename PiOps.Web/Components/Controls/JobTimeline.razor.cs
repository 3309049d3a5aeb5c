using System.Globalization;
using Microsoft.AspNetCore.Components;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// Recent Jobs on one time axis: when each ran, for how long, coloured by outcome. Plain SVG: no script, no chart
/// library.
/// </summary>
public sealed partial class JobTimeline
{
    [CascadingParameter] private DisplayZone Zone { get; set; } = DisplayZone.Utc;

    private const int RowHeight = 22;
    private const double LabelShare = 30;
    // The theme's state colours, so bars and swatches keep 3:1 against the surface in light and dark mode alike.
    private static readonly (string Outcome, string Colour)[] Legend =
    [
        ("Complete", "var(--mud-palette-success)"), ("Failed", "var(--mud-palette-error)"),
        ("Running", "var(--mud-palette-info)"), ("Deleting", "var(--mud-palette-warning)"),
    ];

    private List<Row> _rows = [];
    private DateTimeOffset _from;

    [Parameter, EditorRequired]
    public IReadOnlyList<JobView> Jobs { get; set; } = [];

    [Parameter, EditorRequired]
    public DateTimeOffset Now { get; set; }

    /// <summary>How many of the most recent Jobs are drawn.</summary>
    [Parameter]
    public int Max { get; set; } = 12;

    protected override void OnParametersSet()
    {
        _rows = Jobs.OrderByDescending(j => j.StartTime).Take(Max)
            .Select(j => new Row(j, j.Condition ?? "Running", j.CompletionTime ?? Now)).ToList();
        _from = _rows.Count == 0 ? Now : _rows.Min(r => r.Job.StartTime);
    }

    // Bars use the right 70% of the width; names the left 30%.
    private string Percent(DateTimeOffset at)
    {
        double span = Math.Max(1, (Now - _from).TotalMilliseconds);
        return (LabelShare + (100 - LabelShare) * Math.Clamp((at - _from).TotalMilliseconds / span, 0, 1)).ToString("0.##", CultureInfo.InvariantCulture);
    }

    private string Width(Row row)
    {
        double span = Math.Max(1, (Now - _from).TotalMilliseconds);
        double share = (100 - LabelShare) * Math.Clamp((row.End - row.Job.StartTime).TotalMilliseconds / span, 0, 1);
        return Math.Max(0.6, share).ToString("0.##", CultureInfo.InvariantCulture);
    }

    private static string Colour(string outcome) => Legend.FirstOrDefault(l => l.Outcome == outcome).Colour ?? "var(--mud-palette-info)";

    private static string Truncate(string name) => name.Length <= 26 ? name : name[..25] + "…";

    private sealed record Row(JobView Job, string Outcome, DateTimeOffset End);
}
