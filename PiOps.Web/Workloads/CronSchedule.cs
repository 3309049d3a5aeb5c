using System.Globalization;
using Cronos;

namespace PiOps.Web.Workloads;

/// <summary>
/// A CronJob schedule as Kubernetes accepts it (five fields, names, ranges, steps, and the macros @yearly, @annually,
/// @monthly, @weekly, @daily, @midnight, @hourly), with its next run times computed by Cronos in a time zone and
/// common forms read out in words. Cronos' extensions that Kubernetes refuses (seconds, L, W, #, H) are refused here
/// too, and a restricted day of month and day of week match either, as in Kubernetes, not both.
/// </summary>
public sealed class CronSchedule
{
    private static readonly Dictionary<string, string> Macros = new(StringComparer.Ordinal)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private readonly CronExpression[] _expressions;

    private CronSchedule(string text, string[] fields, CronExpression[] expressions, TimeZoneInfo zone)
    {
        Text = text;
        Fields = fields;
        _expressions = expressions;
        Zone = zone;
    }

    /// <summary>The schedule as written.</summary>
    public string Text { get; }

    /// <summary>Minute, hour, day of month, month, day of week (a macro expanded).</summary>
    public string[] Fields { get; }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses a schedule in a time zone (an IANA name; empty is UTC, as the controller's clock is here).</summary>
    public static bool TryParse(string? schedule, string? timeZone, out CronSchedule? result, out string? error)
    {
        result = null;
        if (!TryFindZone(timeZone, out var zone, out error))
        {
            return false;
        }

        string text = (schedule ?? "").Trim();
        string shown = Shown(text);
        if (text.Length == 0)
        {
            error = "The schedule is empty: write five fields (minute hour day-of-month month day-of-week), e.g. \"*/5 * * * *\", or a macro such as @hourly.";
            return false;
        }

        if (text.StartsWith("TZ=", StringComparison.Ordinal) || text.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            error = "Kubernetes does not accept TZ= or CRON_TZ= in the schedule: choose the time zone in the time zone field.";
            return false;
        }

        if (text.StartsWith('@'))
        {
            if (text.StartsWith("@every", StringComparison.Ordinal))
            {
                error = $"\"{shown}\" is not supported: write the interval as fields instead, e.g. \"*/5 * * * *\" for every 5 minutes.";
                return false;
            }

            if (!Macros.TryGetValue(text, out var expanded))
            {
                error = $"\"{shown}\" is not a schedule macro Kubernetes knows: use one of {string.Join(", ", Macros.Keys)}.";
                return false;
            }

            return Build(text, expanded.Split(' '), zone, out result, out error);
        }

        var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"\"{shown}\" has {fields.Length} field(s); a schedule has five: minute hour day-of-month month day-of-week, e.g. \"*/5 * * * *\".";
            return false;
        }

        if (fields.SelectMany(f => f.Split(',', '-', '/')).FirstOrDefault(t => !IsToken(t)) is { } odd)
        {
            error = $"\"{shown}\" has \"{Shown(odd)}\", which Kubernetes does not accept: use numbers, names (JAN-DEC, SUN-SAT), '*', '?', ',', '-' and '/' (no L, W, # or H).";
            return false;
        }

        if (ReversedRange(fields) is { } reversed)
        {
            error = $"\"{shown}\" has the range \"{reversed}\", which starts after it ends: Kubernetes refuses it. Write the smaller value first, or two ranges (e.g. \"22-23,0-2\").";
            return false;
        }

        if (OutOfRange(fields) is { } outside)
        {
            error = $"\"{shown}\" is not a valid schedule: it {outside}. Kubernetes refuses it.";
            return false;
        }

        return Build(text, fields, zone, out result, out error);
    }

    private static readonly (string Name, int Min, int Max, string Hint)[] FieldRanges =
    [
        ("minute", 0, 59, ""),
        ("hour", 0, 23, ""),
        ("day-of-month", 1, 31, ""),
        ("month", 1, 12, " (or JAN-DEC)"),
        // robfig/cron, Kubernetes' parser, takes 0-6 (Cronos and some crons also take 7 for Sunday).
        ("day-of-week", 0, 6, " (or SUN-SAT; Sunday is 0, not 7)"),
    ];

    /// <summary>
    /// The first number outside its field's range, or a zero step, as robfig/cron's getRange refuses them; null when
    /// all are within.
    /// </summary>
    private static string? OutOfRange(string[] fields)
    {
        for (int f = 0; f < fields.Length; f++)
        {
            var (name, min, max, hint) = FieldRanges[f];
            foreach (var part in fields[f].Split(','))
            {
                var rangeAndStep = part.Split('/');
                foreach (var token in rangeAndStep[0].Split('-'))
                {
                    if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && (n < min || n > max))
                    {
                        return $"has {n} in the {name} field, which takes {min}-{max}{hint}";
                    }
                }

                if (rangeAndStep.Length == 2 && int.TryParse(rangeAndStep[1], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step == 0)
                {
                    return $"has the step \"{Shown(part)}\" in the {name} field; a step must be 1 or more";
                }
            }
        }

        return null;
    }

    /// <summary>The input as an error message shows it: a long one cut, so the message stays a sentence.</summary>
    private static string Shown(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 60), "…");

    /// <summary>
    /// The first range whose start is after its end ("5-1"), which robfig/cron (Kubernetes) refuses and Cronos would
    /// read as a wrap-around; names count as their numbers (JAN = 1, SUN = 0).
    /// </summary>
    private static string? ReversedRange(string[] fields)
    {
        for (int f = 0; f < fields.Length; f++)
        {
            foreach (var part in fields[f].Split(','))
            {
                var range = part.Split('/')[0].Split('-');
                if (range.Length == 2 && Value(range[0], f) is { } from && Value(range[1], f) is { } to && from > to)
                {
                    return Shown(part);
                }
            }
        }

        return null;

        static int? Value(string token, int field)
        {
            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                return n;
            }

            int i = field == 3 ? Array.IndexOf(MonthAbbreviations, token.ToUpperInvariant()) + 1
                : field == 4 ? Array.IndexOf(DayAbbreviations, token.ToUpperInvariant()) : -1;
            return i >= 0 && !(field == 3 && i == 0) ? i : null;
        }
    }

    // What robfig/cron, the parser Kubernetes uses, accepts between the separators.
    private static bool IsToken(string token) =>
        token is "*" or "?"
        || (token.Length > 0 && token.All(char.IsAsciiDigit))
        || DayAbbreviations.Contains(token.ToUpperInvariant())
        || MonthAbbreviations.Contains(token.ToUpperInvariant());

    private static bool Build(string text, string[] fields, TimeZoneInfo zone, out CronSchedule? result, out string? error)
    {
        result = null;
        try
        {
            // Kubernetes (like Vixie cron) runs when either a restricted day of month or a restricted day of week
            // matches; Cronos needs both. Two expressions, each with one of them, give the Kubernetes meaning.
            bool domRestricted = fields[2] is not ("*" or "?");
            bool dowRestricted = fields[4] is not ("*" or "?");
            var expressions = domRestricted && dowRestricted
                ? new[]
                {
                    CronExpression.Parse($"{fields[0]} {fields[1]} {fields[2]} {fields[3]} *"),
                    CronExpression.Parse($"{fields[0]} {fields[1]} * {fields[3]} {fields[4]}"),
                }
                : [CronExpression.Parse(string.Join(' ', fields))];
            result = new CronSchedule(text, fields, expressions, zone);
            error = null;
            return true;
        }
        catch (CronFormatException ex)
        {
            error = $"\"{Shown(text)}\" is not a valid schedule: {ex.Message.TrimEnd('.')}. Five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT).";
            return false;
        }
    }

    /// <summary>Finds a time zone by IANA name; empty means UTC.</summary>
    public static bool TryFindZone(string? timeZone, out TimeZoneInfo zone, out string? error)
    {
        zone = TimeZoneInfo.Utc;
        error = null;
        if (string.IsNullOrWhiteSpace(timeZone))
        {
            return true;
        }

        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone.Trim());
            if (!zone.HasIanaId && !TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out _))
            {
                error = $"\"{timeZone}\" is not an IANA time zone name: use a name such as Europe/Paris or America/New_York.";
                return false;
            }

            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"\"{timeZone}\" is not a known time zone: use an IANA name such as Europe/Paris, America/New_York or Etc/UTC.";
            return false;
        }
    }

    /// <summary>The first run strictly after <paramref name="after"/>, or null if there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        _expressions.Select(e => e.GetNextOccurrence(after, Zone)).Where(o => o is not null).Min();

    /// <summary>The next <paramref name="count"/> runs after <paramref name="after"/>, in the schedule's time zone.</summary>
    public IReadOnlyList<DateTimeOffset> NextRuns(DateTimeOffset after, int count)
    {
        var runs = new List<DateTimeOffset>(count);
        var at = after;
        while (runs.Count < count && Next(at) is { } next)
        {
            runs.Add(next);
            at = next;
        }

        return runs;
    }

    /// <summary>
    /// The most recent run time in (<paramref name="after"/>, <paramref name="now"/>], and how many runs that span holds,
    /// counted up to <paramref name="limit"/> (the controller's "too many missed start times" check).
    /// </summary>
    public (DateTimeOffset? Latest, int Missed) LatestRun(DateTimeOffset after, DateTimeOffset now, int limit = 101)
    {
        int missed = 0;
        for (var at = after; missed < limit && Next(at) is { } next && next <= now; at = next)
        {
            missed++;
        }

        if (missed == 0)
        {
            return (null, 0);
        }

        // Cronos has no "previous occurrence": look back over a window that widens until it holds a run, so a
        // dashboard stopped for a month costs a few steps, not one per missed minute.
        foreach (var window in LookBack)
        {
            var from = now - window > after ? now - window : after;
            DateTimeOffset? latest = null;
            for (var at = from; Next(at) is { } next && next <= now; at = next)
            {
                latest = next;
            }

            if (latest is not null)
            {
                return (latest, missed);
            }
        }

        return (null, 0);
    }

    private static readonly TimeSpan[] LookBack =
        [TimeSpan.FromMinutes(2), TimeSpan.FromHours(2), TimeSpan.FromDays(2), TimeSpan.FromDays(62), TimeSpan.FromDays(800), TimeSpan.MaxValue / 4];

    /// <summary>Common forms in words ("every 5 minutes", "every day at 02:30"); null for the rest.</summary>
    public string? Describe()
    {
        string[] f = Fields;
        string min = f[0], hour = f[1], dom = f[2], month = f[3], dow = f[4];
        bool AnyDay() => dom is "*" or "?" && month == "*" && dow is "*" or "?";
        if (Step(min) is { } every && hour == "*" && AnyDay())
        {
            return every == 1 ? "every minute" : $"every {every} minutes";
        }

        if (!IsNumber(min, 59, out int m))
        {
            return null;
        }

        if (hour == "*" && AnyDay())
        {
            return m == 0 ? "every hour, on the hour" : $"every hour at minute {m}";
        }

        if (Step(hour) is { } everyHours && AnyDay())
        {
            return $"every {everyHours} hours at minute {m}";
        }

        if (!IsNumber(hour, 23, out int h))
        {
            return null;
        }

        string at = $"at {h:00}:{m:00}";
        if (AnyDay())
        {
            return $"every day {at}";
        }

        if (dom is "*" or "?" && month == "*" && DaysOfWeek(dow) is { } days)
        {
            return $"{days} {at}";
        }

        if (IsNumber(dom, 31, out int d) && d >= 1 && dow is "*" or "?")
        {
            if (month == "*")
            {
                return $"on day {d} of every month {at}";
            }

            if (MonthName(month) is { } name)
            {
                return $"every year on {d} {name} {at}";
            }
        }

        return null;
    }

    private static int? Step(string field) =>
        field == "*" ? 1
        : field.StartsWith("*/", StringComparison.Ordinal) && int.TryParse(field.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
        : null;

    private static bool IsNumber(string field, int max, out int value) =>
        int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= max;

    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] DayAbbreviations = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly string[] MonthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] MonthAbbreviations = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

    private static string? DaysOfWeek(string field)
    {
        int? Day(string s)
        {
            if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n <= 7)
            {
                return n % 7;
            }

            int i = Array.IndexOf(DayAbbreviations, s.ToUpperInvariant());
            return i >= 0 ? i : null;
        }

        var parts = field.Split('-');
        if (parts.Length == 2 && Day(parts[0]) == 1 && Day(parts[1]) == 5)
        {
            return "every weekday (Monday to Friday)";
        }

        var days = field.Split(',').Select(Day).ToList();
        return days.All(d => d is not null) ? "every " + string.Join(" and ", days.Select(d => DayNames[d!.Value])) : null;
    }

    private static string? MonthName(string field)
    {
        if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 12)
        {
            return MonthNames[n - 1];
        }

        int i = Array.IndexOf(MonthAbbreviations, field.ToUpperInvariant());
        return i >= 0 ? MonthNames[i] : null;
    }
}
