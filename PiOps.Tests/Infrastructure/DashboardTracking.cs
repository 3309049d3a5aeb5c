using StackExchange.Redis;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// What Redis says of the dashboard's key tracking (CLIENT LIST): the client named piops-dashboard-changes-… with
/// the tracking flag, and its redirection to the subscription of the same name.
/// </summary>
public static class DashboardTracking
{
    private const string TrackerName = "piops-dashboard-changes-";

    public sealed record Tracking(string Tracker, string Redirect, string Subscriber)
    {
        public override string ToString() => $"client {Tracker} tracks, redirected to {Redirect}, its subscription is {Subscriber}";
    }

    /// <summary>
    /// Waits for Redis to list the dashboard's tracking client (flag t) redirected to its own live subscription (flag P,
    /// same name), as <paramref name="also"/> requires; fails with CLIENT LIST's lines when it does not in time.
    /// </summary>
    public static async Task<Tracking> UntilAsync(IServer server, TimeSpan timeout, Func<Tracking, bool> also)
    {
        var deadline = DateTime.UtcNow + timeout;
        string clients = "";
        while (DateTime.UtcNow < deadline)
        {
            clients = (string?)await server.ExecuteAsync("CLIENT", "LIST") ?? "";
            var lines = clients.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split(' ').Select(f => f.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]))
                .Where(f => f.GetValueOrDefault("name", "").StartsWith(TrackerName, StringComparison.Ordinal))
                .ToList();
            var tracker = lines.FirstOrDefault(f => f["flags"].Contains('t', StringComparison.Ordinal));
            var subscriber = lines.FirstOrDefault(f => f["flags"].Contains('P', StringComparison.Ordinal));
            if (tracker is not null && subscriber is not null && tracker["redir"] == subscriber["id"])
            {
                var found = new Tracking(tracker["id"], tracker["redir"], subscriber["id"]);
                if (also(found))
                {
                    return found;
                }
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"no tracking client redirected to its own subscription within {timeout.TotalSeconds:0} s; CLIENT LIST:\n{clients}");
    }
}
