using System.Globalization;
using PiOps.Worker.Liveness;

namespace PiOps.Worker.Commands;

/// <summary>`PiOps.Worker check-liveness FILE MAX_AGE_SECONDS`: the exec liveness probe (0 fresh, 1 stale, 2 unreadable).</summary>
public static class CheckLivenessCommand
{
    public static int Run(string file, string maxAge)
    {
        if (!long.TryParse(maxAge, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            Console.Error.WriteLine($"Failed: MAX_AGE_SECONDS must be a whole number of seconds (got \"{maxAge}\")");
            return 2;
        }

        var (code, message) = LivenessFile.Check(file, seconds, TimeProvider.System);
        (code == 0 ? Console.Out : Console.Error).WriteLine(message);
        return code;
    }
}
