using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Web.Queue;

/// <summary>What the dashboard noticed about the Redis server itself: a restart, and whether it came back with its data.</summary>
/// <param name="At">When the dashboard noticed it.</param>
/// <param name="DataLost">Counters went backwards: the data the queue had is gone (a restart without persistence, a flush).</param>
/// <param name="Message">The sentence the Overview and the audit show.</param>
public sealed record RedisNotice(DateTimeOffset At, bool Restarted, bool DataLost, string Message);

/// <summary>
/// Compares what each sample sees with the one before: the server's run_id (INFO server; it changes on every start of
/// Redis and of Garnet) and the queue's counters, which only ever grow. Pure, so the monitor stays small and this is
/// checked on its own.
/// </summary>
public sealed class RedisWatch
{
    private string? _runId;
    private QueueTotals? _totals;
    private long _depth;

    /// <summary>Reads run_id from an INFO reply; null when the server does not tell.</summary>
    public static string? RunId(string info)
    {
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("run_id:", StringComparison.Ordinal))
            {
                return line["run_id:".Length..].Trim();
            }
        }

        return null;
    }

    /// <summary>
    /// Takes one successful sample (<paramref name="runId"/> null when it was not read this time); returns a notice when
    /// the server restarted or the queue's data went missing since the previous one, else null.
    /// </summary>
    public RedisNotice? Observe(DateTimeOffset now, string? runId, QueueTotals totals, long depth)
    {
        bool restarted = runId is not null && _runId is not null && runId != _runId;
        var before = _totals;
        long depthBefore = _depth;
        _runId = runId ?? _runId;
        _totals = totals;
        _depth = depth;
        if (before is null)
        {
            return null;
        }

        var backwards = new List<string>();
        void Check(string name, long was, long now)
        {
            if (now < was)
            {
                backwards.Add($"{name} {was.ToString("N0", CultureInfo.InvariantCulture)} → {now.ToString("N0", CultureInfo.InvariantCulture)}");
            }
        }

        Check("enqueued", before.Enqueued, totals.Enqueued);
        Check("done", before.Done, totals.Done);
        Check("failed", before.Failed, totals.Failed);
        Check("recovered", before.Recovered, totals.Recovered);
        bool lost = backwards.Count > 0;
        if (!restarted && !lost)
        {
            return null;
        }

        string time = now.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        string what = restarted ? $"Redis restarted (noticed at {time}, new run id)" : $"At {time} the queue's data changed under the dashboard";
        string message = lost
            ? $"{what} and came back without the queue's data: its counters went backwards ({string.Join(", ", backwards)}), " +
              $"{depthBefore.ToString("N0", CultureInfo.InvariantCulture)} task(s) were waiting before and " +
              $"{depth.ToString("N0", CultureInfo.InvariantCulture)} are now. Tasks, results and dead letters kept in Redis are gone; " +
              "enqueue the lost work again, and give Redis persistence (append-only file) to keep it next time."
            : $"{what}; its data is intact: the queue's counters carried on where they were.";
        return new RedisNotice(now, restarted, lost, message);
    }

    /// <summary>The sentence the banner shows while Redis is away, never the client's diagnostics.</summary>
    public static string Outage(string endpoint, Exception ex) => $"Redis at {endpoint} is not answering: " + ex switch
    {
        RedisTimeoutException or TimeoutException => "it did not reply in time (it may be stopped, overloaded or paused)",
        RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure } =>
            "it refused the dashboard's password",
        RedisConnectionException => "the dashboard cannot connect to it (is it running, and is the address right?)",
        RedisServerException s when s.Message.StartsWith("LOADING", StringComparison.Ordinal) => "it is loading its data",
        RedisServerException s when s.Message.StartsWith("NOAUTH", StringComparison.Ordinal) =>
            "it asks for a password the dashboard was not given",
        _ => "it returned an error the dashboard did not expect (the log has the details)",
    };
}
