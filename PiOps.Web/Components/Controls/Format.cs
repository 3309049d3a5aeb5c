using System.Globalization;

namespace PiOps.Web.Components.Controls;

/// <summary>How numbers and times read on the pages.</summary>
public static class Format
{
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => perSecond switch
    {
        0 => "0/s",
        < 10 => perSecond.ToString("0.00", CultureInfo.InvariantCulture) + "/s",
        _ => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s",
    };

    public static string Duration(TimeSpan? t) => t switch
    {
        null => "—",
        { TotalSeconds: < 1 } d => $"{d.TotalMilliseconds:0} ms",
        { TotalMinutes: < 1 } d => $"{d.TotalSeconds:0.#} s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes} min {d.Seconds} s",
        { TotalDays: < 1 } d => $"{(int)d.TotalHours} h {d.Minutes} min",
        var d => $"{(int)d.Value.TotalDays} d {d.Value.Hours} h",
    };

    public static string Ago(DateTimeOffset at, DateTimeOffset now) => Duration(now - at) + " ago";

}
