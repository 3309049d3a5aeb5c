using System.Globalization;
using System.Text;

namespace PiOps.Web.Audit;

/// <summary>The Audit page's and the CSV export's filters, and the CSV itself (RFC 4180 quoting).</summary>
public static class AuditFilter
{
    public static IReadOnlyList<AuditEntry> Apply(IEnumerable<AuditEntry> entries, string? user, string? action, bool failedOnly) =>
        entries.Where(e => string.IsNullOrWhiteSpace(user) || e.User.Contains(user.Trim(), StringComparison.OrdinalIgnoreCase))
            .Where(e => string.IsNullOrWhiteSpace(action) || e.Action.Contains(action.Trim(), StringComparison.OrdinalIgnoreCase)
                        || e.Target.Contains(action.Trim(), StringComparison.OrdinalIgnoreCase))
            .Where(e => !failedOnly || !e.Succeeded)
            .ToList();

    public static string ToCsv(IEnumerable<AuditEntry> entries)
    {
        var sb = new StringBuilder("at,user,role,address,via,action,target,parameters,outcome,error\r\n");
        foreach (var e in entries)
        {
            sb.AppendJoin(',', new[]
            {
                e.At.ToString("O", CultureInfo.InvariantCulture), e.User, e.Role, e.Address, e.Via, e.Action, e.Target, e.Parameters,
                e.Succeeded ? "succeeded" : "failed", e.Error ?? "",
            }.Select(Quote)).Append("\r\n");
        }

        return sb.ToString();
    }

    // Quoted when needed. A value a spreadsheet would run as a formula is neutralised with a leading quote: one that
    // starts with =, +, - or @ after any whitespace or control characters (spreadsheets skip those), or with a tab or
    // carriage return (OWASP's CSV injection list).
    private static string Quote(string value)
    {
        int first = 0;
        while (first < value.Length && (char.IsWhiteSpace(value[first]) || char.IsControl(value[first])))
        {
            first++;
        }

        if ((first < value.Length && value[first] is '=' or '+' or '-' or '@') || (value.Length > 0 && value[0] is '\t' or '\r'))
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
