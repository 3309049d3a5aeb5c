using System.Globalization;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The time zone a page shows clock times in: the browser's own (as the browser reports it), or UTC when the
/// operator chose so. Cascaded from the layout, so every page and control shows the same zone, named in the app bar.
/// </summary>
public sealed record DisplayZone(TimeZoneInfo Zone, string Name)
{
    public static DisplayZone Utc { get; } = new(TimeZoneInfo.Utc, "UTC");

    public bool IsUtc => Zone == TimeZoneInfo.Utc;

    /// <summary>The zone of an IANA name from the browser; UTC when the name is unknown here.</summary>
    public static DisplayZone FromBrowser(string? iana) =>
        !string.IsNullOrWhiteSpace(iana) && iana != "UTC" && iana != "Etc/UTC" && TimeZoneInfo.TryFindSystemTimeZoneById(iana, out var zone)
            ? new DisplayZone(zone, iana)
            : Utc;

    public DateTimeOffset Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Zone);

    /// <summary>A date and time in this zone, e.g. 2026-11-30 07:05:12.</summary>
    public string Time(DateTimeOffset? t) => t is { } v ? Local(v).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "—";

    /// <summary>A clock time in this zone, e.g. 07:05:12 (or with milliseconds for log lines).</summary>
    public string Clock(DateTimeOffset t, bool milliseconds = false) =>
        Local(t).ToString(milliseconds ? "HH:mm:ss.fff" : "HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>A clock time when it is today in this zone, else the date and time: compact in tables.</summary>
    public string Short(DateTimeOffset? t, DateTimeOffset now) =>
        t is { } v && Local(v).Date == Local(now).Date ? Clock(v) : Time(t);

    /// <summary>The zone as the app bar names it, with its offset now: "America/New_York (UTC-05:00)".</summary>
    public string Label(DateTimeOffset now)
    {
        if (IsUtc)
        {
            return "UTC";
        }

        var offset = Zone.GetUtcOffset(now);
        return $"{Name} (UTC{(offset < TimeSpan.Zero ? "-" : "+")}{offset.Duration():hh\\:mm})";
    }

    /// <summary>The same instant in UTC, ISO 8601, for a tooltip.</summary>
    public static string Iso(DateTimeOffset? t) => t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";
}
