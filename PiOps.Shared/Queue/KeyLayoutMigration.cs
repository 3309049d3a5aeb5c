using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// Moves what an earlier version kept under the untagged layout (<c>queue:task:stats</c>) to the hash-tagged one
/// (<c>{queue:task}:stats</c>, <see cref="QueueKeys"/>), so an upgrade keeps every in-flight task, dead letter, result,
/// total, token, session and audit entry. Every recoverer runs it (workers and the dashboard, through
/// <see cref="DeadWorkerRecovery"/>); each key moves in one script, so several running it at once is safe.
/// <para>
/// A worker of the earlier version that still beats keeps its in-flight list where it is; once it stops, its list is
/// handed to the tagged layout and recovered like any dead worker's. Until none is left, only that part runs (at most
/// every 30 s); then one pass over the queue's keys moves the rest and <see cref="QueueKeys.Layout"/> records that it
/// is done, after which this costs one EXISTS per process. The untagged layout never ran on Redis Cluster (its scripts
/// would cross slots), so on a cluster there is nothing to move. Decision: docs/decisions.md.
/// </para>
/// </summary>
public sealed class KeyLayoutMigration(IConnectionMultiplexer redis, QueueKeys keys, ILogger? log = null)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly string _legacy = keys.QueueName + ":";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _done = keys.Prefix == keys.QueueName;
    private long _nextPass;
    private bool _waitingNoted;

    /// <summary>True once nothing of the earlier layout is left to move.</summary>
    public bool IsDone => _done;

    /// <summary>Moves what it can now; true when the migration is complete.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken = default)
    {
        if (_done)
        {
            return true;
        }

        long now = Environment.TickCount64;
        if (now < Interlocked.Read(ref _nextPass) || !await _gate.WaitAsync(0, cancellationToken))
        {
            return false;
        }

        try
        {
            Interlocked.Exchange(ref _nextPass, now + (long)Interval.TotalMilliseconds);
            var db = redis.GetDatabase();
            if (await db.KeyExistsAsync(keys.Layout))
            {
                return _done = true;
            }

            var primaries = redis.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToArray();
            if (primaries.Length == 0)
            {
                return false;
            }

            if (primaries.Any(s => s.ServerType == ServerType.Cluster))
            {
                await db.StringSetAsync(keys.Layout, "tagged: nothing to move on a cluster");
                return _done = true;
            }

            var moved = new Moved();
            var stillRunning = await HandOverStoppedWorkersAsync(db, moved);
            if (stillRunning.Count > 0)
            {
                if (!_waitingNoted)
                {
                    _waitingNoted = true;
                    log?.LogWarning("{Count} worker(s) of an earlier version still run on queue {Queue} ({Workers}); their in-flight tasks move to the " +
                                    "new key layout when they stop, and the rest of the queue's keys after that", stillRunning.Count, keys.QueueName,
                        string.Join(", ", stillRunning.Take(5)));
                }

                Report(moved);
                return false;
            }

            foreach (var server in primaries)
            {
                var page = new List<RedisKey>(1000);
                await foreach (var key in server.KeysAsync(db.Database, GlobEscape(_legacy) + "*", pageSize: 1000).WithCancellation(cancellationToken))
                {
                    page.Add(key);
                    if (page.Count == 1000)
                    {
                        await MovePageAsync(db, page, moved);
                        page.Clear();
                    }
                }

                await MovePageAsync(db, page, moved);
            }

            await db.StringSetAsync(keys.Layout, $"tagged since {DateTimeOffset.UtcNow:O}");
            Report(moved);
            log?.LogInformation("Queue {Queue} keeps its keys under {Prefix} (Redis Cluster hash tag); nothing of the earlier layout is left",
                keys.QueueName, keys.Prefix);
            return _done = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<List<string>> HandOverStoppedWorkersAsync(IDatabase db, Moved moved)
    {
        var running = new List<string>();
        foreach (var member in await db.SetMembersAsync(_legacy + "workers"))
        {
            string id = member!;
            long result = await HandOverAsync(db, id);
            if (result < 0)
            {
                running.Add(id);
            }
            else
            {
                moved.InFlight += result;
            }
        }

        return running;
    }

    /// <summary>-1 while the worker still beats; otherwise how many in-flight entries went to the tagged layout.</summary>
    private async Task<long> HandOverAsync(IDatabase db, string workerId) =>
        (long)await db.ScriptEvaluateAsync(HandOverScript,
            [_legacy + "worker:" + workerId, _legacy + "inflight:" + workerId, keys.InFlight(workerId), keys.Workers, _legacy + "workers"],
            [workerId]);

    private async Task MovePageAsync(IDatabase db, List<RedisKey> page, Moved moved)
    {
        var work = new List<Task>();
        foreach (string key in page.Select(k => (string)k!))
        {
            string suffix = key[_legacy.Length..];
            if (suffix.StartsWith("inflight:", StringComparison.Ordinal))
            {
                work.Add(CountAsync(HandOverAsync(db, suffix["inflight:".Length..]), n => Interlocked.Add(ref moved.InFlight, Math.Max(0, n))));
                continue;
            }

            if (Target(suffix) is not { } target)
            {
                continue; // a heartbeat (it expires), the registry (handled above), or not a key of ours
            }

            var args = new List<RedisValue> { target.ListEnd };
            args.AddRange(target.Sums.Select(s => (RedisValue)s));
            work.Add(CountAsync(MoveAsync(db, key, target.Key, [.. args]), n => Interlocked.Add(ref moved.Keys, n > 0 ? 1 : 0)));
        }

        await Task.WhenAll(work);
    }

    private static async Task<long> MoveAsync(IDatabase db, RedisKey from, RedisKey to, RedisValue[] args) =>
        (long)await db.ScriptEvaluateAsync(MoveScript, [from, to], args);

    private static async Task CountAsync(Task<long> task, Action<long> add) => add(await task);

    private (RedisKey Key, string ListEnd, string[] Sums)? Target(string suffix)
    {
        foreach (string prefix in (string[])["task:", "batch:", "idempotency:"])
        {
            if (suffix.StartsWith(prefix, StringComparison.Ordinal))
            {
                return (keys.Prefix + ":" + suffix, "tail", []);
            }
        }

        return suffix switch
        {
            "dead" => (keys.DeadLetters, "head", []), // oldest first: the earlier ones go in front
            "results" or "audit" => ((RedisKey)(keys.Prefix + ":" + suffix), "tail", []), // newest first
            "stats" => (keys.Stats, "tail", ["enqueued", "done", "failed", "recovered", "fenced"]),
            "paused" or "sessions" or "tokens" or "dataprotection" => (keys.Prefix + ":" + suffix, "tail", []),
            _ => null,
        };
    }

    private void Report(Moved moved)
    {
        if (moved.Keys + moved.InFlight > 0)
        {
            log?.LogInformation("Queue {Queue}: moved {Keys} key(s) of the earlier layout under {Prefix}, and {InFlight} in-flight task(s) of stopped " +
                                "workers, which recovery puts back on the queue", keys.QueueName, moved.Keys, keys.Prefix, moved.InFlight);
        }
    }

    private static string GlobEscape(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private sealed class Moved
    {
        public long Keys;
        public long InFlight;
    }

    /// <summary>
    /// KEYS: legacy heartbeat, legacy in-flight list, tagged in-flight list, tagged registry, legacy registry. ARGV: the
    /// worker's id. A worker that still beats keeps its list (-1); otherwise its entries join the tagged list and it is
    /// registered there, so recovery gives them back to the queue. Returns how many entries moved.
    /// </summary>
    private const string HandOverScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
        local items = redis.call('LRANGE', KEYS[2], 0, -1)
        for i = 1, #items do redis.call('RPUSH', KEYS[3], items[i]) end
        if #items > 0 then redis.call('SADD', KEYS[4], ARGV[1]) end
        redis.call('DEL', KEYS[2])
        redis.call('SREM', KEYS[5], ARGV[1])
        return #items
        """;

    /// <summary>
    /// KEYS: the legacy key, its tagged name. ARGV: where a list's entries join an existing one ('head' or 'tail'), then
    /// the hash fields that are totals to add up. The key is renamed (with its TTL) when the tagged one does not exist;
    /// otherwise merged: lists joined, totals added, other hash fields kept where the tagged key has them, sets and
    /// sorted sets united, strings left to the tagged key. Returns 0 when there was nothing, 1 renamed, 2 merged.
    /// </summary>
    private const string MoveScript = """
        local kind = redis.call('TYPE', KEYS[1])['ok']
        if kind == 'none' then return 0 end
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('RENAME', KEYS[1], KEYS[2])
          return 1
        end
        if kind == 'list' then
          local items = redis.call('LRANGE', KEYS[1], 0, -1)
          if ARGV[1] == 'head' then
            for i = #items, 1, -1 do redis.call('LPUSH', KEYS[2], items[i]) end
          else
            for i = 1, #items do redis.call('RPUSH', KEYS[2], items[i]) end
          end
        elseif kind == 'hash' then
          local sums = {}
          for i = 2, #ARGV do sums[ARGV[i]] = true end
          local fields = redis.call('HGETALL', KEYS[1])
          for i = 1, #fields, 2 do
            if sums[fields[i]] and string.match(fields[i + 1], '^-?%d+$') then
              redis.call('HINCRBY', KEYS[2], fields[i], fields[i + 1])
            else
              redis.call('HSETNX', KEYS[2], fields[i], fields[i + 1])
            end
          end
        elseif kind == 'set' then
          redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
        elseif kind == 'zset' then
          redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], KEYS[1], 'AGGREGATE', 'MAX')
        end
        redis.call('DEL', KEYS[1])
        return 2
        """;
}
