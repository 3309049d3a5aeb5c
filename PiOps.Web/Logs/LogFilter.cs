using System.Text.RegularExpressions;

namespace PiOps.Web.Logs;

/// <summary>
/// What the Logs page shows of the lines kept: the pods not hidden, the last minutes, the window around a task's
/// time, and the lines matching the filter (text, or a regular expression given 20 ms a line).
/// </summary>
public static class LogFilter
{
    /// <summary>The filter as a pattern (null when empty); a bad regular expression is explained in <paramref name="error"/>.</summary>
    public static Regex? Compile(string? filter, bool regex, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(filter))
        {
            return null;
        }

        try
        {
            return new Regex(regex ? filter : Regex.Escape(filter), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(20));
        }
        catch (ArgumentException ex)
        {
            error = "Not a regular expression: " + ex.Message;
            return null;
        }
    }

    /// <param name="since">The oldest time shown (the last N minutes), or null.</param>
    /// <param name="around">A task's time: the lines within 2 minutes of it, or null.</param>
    public static List<LogLine> Select(IEnumerable<LogLine> lines, IReadOnlySet<string> hiddenPods, DateTimeOffset? since,
        DateTimeOffset? around, Regex? pattern)
    {
        lines = lines.Where(l => !hiddenPods.Contains(l.Pod));
        if (since is { } from)
        {
            lines = lines.Where(l => l.At >= from);
        }

        if (around is { } at)
        {
            lines = lines.Where(l => l.At >= at.AddMinutes(-2) && l.At <= at.AddMinutes(2));
        }

        if (pattern is not null)
        {
            lines = lines.Where(l => Matches(pattern, l.Text));
        }

        return lines.ToList();
    }

    /// <summary>The text cut into plain and matching parts, for highlighting.</summary>
    public static IEnumerable<(string Text, bool Match)> Segments(Regex? pattern, string text)
    {
        if (pattern is null)
        {
            yield return (text, false);
            yield break;
        }

        int at = 0;
        MatchCollection matches;
        try
        {
            matches = pattern.Matches(text);
            _ = matches.Count;
        }
        catch (RegexMatchTimeoutException)
        {
            matches = Regex.Matches("", "x");
        }

        foreach (Match m in matches)
        {
            if (m.Length == 0)
            {
                continue;
            }

            if (m.Index > at)
            {
                yield return (text[at..m.Index], false);
            }

            yield return (m.Value, true);
            at = m.Index + m.Length;
        }

        if (at < text.Length)
        {
            yield return (text[at..], false);
        }
    }

    private static bool Matches(Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
