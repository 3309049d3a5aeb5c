using System.Globalization;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Schedules checked as the API server checks them: pkg/apis/batch/validation/validation.go (validateScheduleFormat)
/// calls cron.ParseStandard of the vendored github.com/robfig/cron/v3 (parser.go), and reports its error as the
/// field's message. This is that parser's checking half, with its own error wording.
/// </summary>
public sealed partial class KubeApiDouble
{
    private static readonly (int Min, int Max, string[]? Names)[] CronFields =
    [
        (0, 59, null), // minute
        (0, 23, null), // hour
        (1, 31, null), // day of month
        (1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        (0, 6, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]), // day of week: 0-6, so 7 is refused
    ];

    private static readonly string[] CronDescriptors = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

    /// <summary>robfig/cron's error for a schedule, or null when ParseStandard accepts it.</summary>
    private static string? CronError(string spec)
    {
        if (spec.Length == 0)
        {
            return "empty spec string";
        }

        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            int space = spec.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                return "missing spec";
            }

            spec = spec[(space + 1)..].Trim();
        }

        if (spec.StartsWith('@'))
        {
            if (CronDescriptors.Contains(spec))
            {
                return null;
            }

            if (spec.StartsWith("@every ", StringComparison.Ordinal))
            {
                // Go durations (time.ParseDuration) are not modelled beyond a number and a unit.
                return System.Text.RegularExpressions.Regex.IsMatch(spec[7..], @"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$") ? null : $"failed to parse duration {spec}";
            }

            return $"unrecognized descriptor: {spec}";
        }

        var fields = spec.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            return $"expected exactly 5 fields, found {fields.Length}: [{string.Join(' ', fields)}]";
        }

        for (int f = 0; f < 5; f++)
        {
            foreach (var expr in fields[f].Split(','))
            {
                if (CronRangeError(expr, CronFields[f]) is { } error)
                {
                    return error;
                }
            }
        }

        return null;
    }

    // parser.go getRange: "*" or "?", or low[-high], each with an optional /step.
    private static string? CronRangeError(string expr, (int Min, int Max, string[]? Names) bounds)
    {
        var rangeAndStep = expr.Split('/');
        var lowAndHigh = rangeAndStep[0].Split('-');
        bool singleDigit = lowAndHigh.Length == 1;
        long start, end;
        if (lowAndHigh[0] is "*" or "?")
        {
            start = bounds.Min;
            end = bounds.Max;
        }
        else
        {
            if (IntOrName(lowAndHigh[0], bounds.Names, out start) is { } e1)
            {
                return e1;
            }

            switch (lowAndHigh.Length)
            {
                case 1:
                    end = start;
                    break;
                case 2:
                    if (IntOrName(lowAndHigh[1], bounds.Names, out end) is { } e2)
                    {
                        return e2;
                    }

                    break;
                default:
                    return $"too many hyphens: {expr}";
            }
        }

        long step = 1;
        switch (rangeAndStep.Length)
        {
            case 1:
                break;
            case 2:
                if (IntOrName(rangeAndStep[1], null, out step) is { } e3)
                {
                    return e3;
                }

                // "N/step" means "N-max/step".
                if (singleDigit)
                {
                    end = bounds.Max;
                }

                break;
            default:
                return $"too many slashes: {expr}";
        }

        if (start < bounds.Min)
        {
            return $"beginning of range ({start}) below minimum ({bounds.Min}): {expr}";
        }

        if (end > bounds.Max)
        {
            return $"end of range ({end}) above maximum ({bounds.Max}): {expr}";
        }

        if (start > end)
        {
            return $"beginning of range ({start}) beyond end of range ({end}): {expr}";
        }

        return step == 0 ? $"step of range should be a positive number: {expr}" : null;
    }

    // parser.go parseIntOrName and mustParseInt.
    private static string? IntOrName(string expr, string[]? names, out long value)
    {
        if (names is not null && Array.IndexOf(names, expr.ToLowerInvariant()) is >= 0 and var i)
        {
            value = names.Length == 12 ? i + 1 : i;
            return null;
        }

        if (!long.TryParse(expr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return $"failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax";
        }

        return value < 0 ? $"negative number ({value}) not allowed: {expr}" : null;
    }
}
