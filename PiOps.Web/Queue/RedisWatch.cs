using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Web.Queue;

/// <summary>What the dashboard noticed about the Redis server itself: a restart or a failover, and whether the queue's data came through.</summary>
/// <param name="At">When the dashboard noticed it.</param>
/// <param name="Restarted">The server answering is another process than before: a restart, or a failover.</param>
/// <param name="DataLost">Counters went backwards: the data the queue had is gone (a restart without persistence, a flush).</param>
/// <param name="Message">The sentence the Overview and the audit show.</param>
public sealed record RedisNotice(DateTimeOffset At, bool Restarted, bool DataLost, string Message)
{
    /// <summary>A replica took over from the primary (Sentinel's failover), rather than a restart of the same server.</summary>
    public bool FailedOver { get; init; }
}

/// <summary>One replica of the primary, as the primary's INFO replication lists it.</summary>
/// <param name="Lag">Seconds since the replica last acknowledged the stream; null while it is not online.</param>
/// <param name="BytesBehind">How far its offset is behind the primary's.</param>
public sealed record RedisReplica(string Address, string State, long? Lag, long BytesBehind);

/// <summary>The Redis the dashboard talks to: the primary's address, its replicas, and the last failover noticed.</summary>
public sealed record RedisTopology(string Primary, IReadOnlyList<RedisReplica> Replicas, RedisNotice? LastFailover)
{
    /// <summary>One line for the Overview: the primary and how each replica keeps up.</summary>
    public string Describe()
    {
        string replicas = Replicas.Count == 0 ? "no replica"
            : $"{Replicas.Count} replica(s): " + string.Join(", ", Replicas.Select(r => r.State == "online"
                ? $"{r.Address} online, {r.Lag ?? 0} s behind{(r.BytesBehind > 0 ? $" ({r.BytesBehind.ToString("N0", CultureInfo.InvariantCulture)} bytes)" : "")}"
                : $"{r.Address} {r.State}"));
        return $"Redis primary {Primary} with {replicas}"
            + (LastFailover is { } f ? $"; last failover noticed at {f.At.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)}" : "");
    }
}

/// <summary>What one INFO reply (sections server and replication) says about the server.</summary>
public sealed record RedisServerInfo(string? RunId, string? Role, string? ReplId, string? ReplId2, long Offset, IReadOnlyList<RedisReplica> Replicas)
{
    /// <summary>Reads the fields PiOps uses from INFO's "name:value" lines; a field the server does not tell is null or empty.</summary>
    public static RedisServerInfo Parse(string info)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in info.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int colon = line.IndexOf(':');
            if (colon > 0 && !line.StartsWith('#'))
            {
                fields[line[..colon]] = line[(colon + 1)..];
            }
        }

        long offset = fields.TryGetValue("master_repl_offset", out var o) && long.TryParse(o, CultureInfo.InvariantCulture, out long n) ? n : 0;
        var replicas = new List<RedisReplica>();
        for (int i = 0; fields.TryGetValue($"slave{i}", out var r); i++)
        {
            // slave0:ip=10.0.0.2,port=6379,state=online,offset=1234,lag=0
            var parts = r.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            string state = parts.GetValueOrDefault("state", "unknown");
            long replicaOffset = long.TryParse(parts.GetValueOrDefault("offset"), CultureInfo.InvariantCulture, out long ro) ? ro : 0;
            long? lag = state == "online" && long.TryParse(parts.GetValueOrDefault("lag"), CultureInfo.InvariantCulture, out long l) ? l : null;
            replicas.Add(new RedisReplica($"{parts.GetValueOrDefault("ip", "?")}:{parts.GetValueOrDefault("port", "?")}", state, lag,
                Math.Max(0, offset - replicaOffset)));
        }

        return new RedisServerInfo(fields.GetValueOrDefault("run_id"), fields.GetValueOrDefault("role"),
            fields.GetValueOrDefault("master_replid"), fields.GetValueOrDefault("master_replid2"), offset, replicas);
    }
}

/// <summary>
/// Compares what each sample sees with the one before: the server's run_id (INFO server; it changes on every start of
/// Redis and of Garnet), its replication ids (INFO replication: a replica promoted by a failover keeps the old primary's
/// id as its second one, master_replid2) and the queue's counters, which only ever grow. Pure, so the monitor stays
/// small and this is checked on its own.
/// </summary>
public sealed class RedisWatch
{
    private string? _runId;
    private string? _replId;
    private string? _endpoint;
    private QueueTotals? _totals;
    private long _depth;

    /// <summary>
    /// Takes one successful sample with what INFO said (<paramref name="info"/> null when it was not read this time) and
    /// the address that answered; returns a notice when the server restarted, failed over, or the queue's data went
    /// missing since the previous one, else null.
    /// </summary>
    public RedisNotice? Observe(DateTimeOffset now, RedisServerInfo? info, string? endpoint, QueueTotals totals, long depth)
    {
        if (info?.Role is "slave" or "replica")
        {
            // With no primary (mid-failover), the client reads from a replica: another process, but neither a restart
            // nor the failover itself. Only a primary's identity is compared.
            info = null;
            endpoint = null;
        }

        string? runId = info?.RunId;
        bool restarted = runId is not null && _runId is not null && runId != _runId;
        // The promoted replica carries the old primary's replication id as its second one.
        bool failedOver = restarted && _replId is not null && info?.ReplId2 == _replId;
        string? primaryBefore = _endpoint;
        var before = _totals;
        long depthBefore = _depth;
        _runId = runId ?? _runId;
        _replId = info?.ReplId ?? _replId;
        _endpoint = endpoint ?? _endpoint;
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
        Check("fenced", before.Fenced, totals.Fenced);
        bool lost = backwards.Count > 0;
        if (!restarted && !lost)
        {
            return null;
        }

        string time = now.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        string what = failedOver
            ? $"Redis failed over (noticed at {time}): the replica at {endpoint ?? "?"} is the primary now"
              + (primaryBefore is not null && primaryBefore != endpoint ? $", in place of {primaryBefore}" : "")
            : restarted ? $"Redis restarted (noticed at {time}, new run id)" : $"At {time} the queue's data changed under the dashboard";
        string message = lost && failedOver
            ? $"{what}, and it lacked the old primary's latest writes: the queue's counters went back " +
              $"({string.Join(", ", backwards)}). Writes acknowledged before the replicas had them are gone; set " +
              "REDIS_WAIT_REPLICAS (Queue__WaitReplicas on the dashboard) so an enqueue is acknowledged only once a replica has it."
            : failedOver ? $"{what}; the queue's counters carried on where they were."
            : lost
            ? $"{what} and came back without the queue's data: its counters went backwards ({string.Join(", ", backwards)}), " +
              $"{depthBefore.ToString("N0", CultureInfo.InvariantCulture)} task(s) were waiting before and " +
              $"{depth.ToString("N0", CultureInfo.InvariantCulture)} are now. Tasks, results and dead letters kept in Redis are gone; " +
              "enqueue the lost work again, and give Redis persistence (append-only file) to keep it next time."
            : $"{what}; its data is intact: the queue's counters carried on where they were.";
        return new RedisNotice(now, restarted, lost, message) { FailedOver = failedOver };
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
