using PiOps.Shared.Redis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Queue;

/// <summary>
/// The <c>Idempotency-Key</c> request header of <c>POST /api/tasks</c> (IETF draft "The Idempotency-Key HTTP Header
/// Field"): the first request with a key enqueues and its outcome is kept in Redis for the status TTL; a retry with the
/// same key and body gets that outcome back (its ids) and enqueues nothing; the same key with another body is refused
/// (422), and a retry while the first is still enqueuing is told to wait (409). Keys are per user, so two clients'
/// keys never meet. An outcome is kept compactly: its ids as runs of one batch ({batch}-0 … {batch}-k).
/// </summary>
public sealed class EnqueueIdempotency(RedisConnection redis, IOptions<QueueOptions> queue, ILogger<EnqueueIdempotency> log)
{
    public const string Header = "Idempotency-Key";

    /// <summary>Longest key accepted; the draft leaves it to the server, and a UUID is 36.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>
    /// How long a claim lasts before its outcome is kept: far longer than the largest enqueue takes (seconds), short
    /// enough that a dashboard that died mid-enqueue does not answer "still running" to the retries for a day.
    /// </summary>
    private static readonly TimeSpan PendingTtl = TimeSpan.FromMinutes(10);

    private readonly QueueOptions _queue = queue.Value;

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    /// <summary>Why a key cannot be used, or null when it is good: printable ASCII, 1 to 255 characters.</summary>
    public static string? Check(string key) =>
        key.Length is 0 or > MaxKeyLength || key.Any(c => c is < ' ' or > '~')
            ? $"The {Header} header must be 1 to {MaxKeyLength} printable ASCII characters; nothing was enqueued."
            : null;

    /// <summary>
    /// Claims <paramref name="key"/> for this request, atomically. Returns Claimed (go on and enqueue), or what the key
    /// already holds: the first request's outcome, a first request still running, or a different request.
    /// </summary>
    public async Task<Claim> ClaimAsync(string user, string key, byte[] body)
    {
        var record = RecordKey(user, key);
        string fingerprint = Convert.ToHexString(SHA256.HashData(body));
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(ClaimScript, [record],
            [fingerprint, (long)PendingTtl.TotalSeconds, DateTimeOffset.UtcNow.ToString("O")]))!;
        if (reply.Length == 0)
        {
            return new Claim(ClaimState.Claimed, null, null);
        }

        var fields = new Dictionary<string, string>();
        for (int i = 0; i + 1 < reply.Length; i += 2)
        {
            fields[(string)reply[i]!] = (string)reply[i + 1]!;
        }

        fields.TryGetValue("at", out string? at);
        if (fields.GetValueOrDefault("fingerprint") != fingerprint)
        {
            return new Claim(ClaimState.DifferentRequest, null, at);
        }

        return fields.GetValueOrDefault("state") switch
        {
            "done" => new Claim(ClaimState.Replay, Read(fields), at),
            "failed" => new Claim(ClaimState.FailedPartWay, null, at, fields.GetValueOrDefault("error")),
            _ => new Claim(ClaimState.InProgress, null, at),
        };
    }

    /// <summary>Keeps the outcome of the request that claimed <paramref name="key"/>, for its retries.</summary>
    public async Task CompleteAsync(string user, string key, EnqueueOutcome outcome, EntryFormat format)
    {
        var runs = new StringBuilder();
        int i = 0;
        while (i < outcome.Ids.Count)
        {
            TaskIds.TryGetBatch(outcome.Ids[i], out string batch);
            int j = i + 1;
            while (j < outcome.Ids.Count && outcome.Ids[j] == $"{batch}-{j - i}")
            {
                j++;
            }

            runs.Append(runs.Length == 0 ? "" : ",").Append(batch).Append(':').Append(j - i);
            i = j;
        }

        var record = RecordKey(user, key);
        var db = Db;
        await db.HashSetAsync(record,
        [
            new("state", "done"), new("count", outcome.Count), new("depth", outcome.QueueDepth), new("format", format.ToString()),
            new("ids", runs.ToString()),
            new("iterations", outcome.Iterations.Count <= 1000 ? string.Join(',', outcome.Iterations) : ""),
        ]);
        await db.KeyExpireAsync(record, _queue.StatusTtl);
    }

    /// <summary>
    /// The first request failed part-way (some tasks landed): its retries get the same account of what landed rather
    /// than a second copy of those tasks.
    /// </summary>
    public async Task FailAsync(string user, string key, string error)
    {
        var record = RecordKey(user, key);
        var db = Db;
        await db.HashSetAsync(record, [new("state", "failed"), new("error", error)]);
        await db.KeyExpireAsync(record, _queue.StatusTtl);
    }

    /// <summary>
    /// Runs <paramref name="write"/> now, or, while Redis is away (the very reason the enqueue failed), again every
    /// second until it lands or the claim lapses; meanwhile retries are told the first request is still running.
    /// </summary>
    public void Settle(Func<Task> write) =>
        RedisLater.Write(write, PendingTtl, log, "Could not record an idempotency key's outcome; its claim lapses by itself");

    /// <summary>The first request failed before it enqueued anything: the key is free again, so a retry can try.</summary>
    public Task ReleaseAsync(string user, string key) => Db.KeyDeleteAsync(RecordKey(user, key));

    private static EnqueueOutcome Read(Dictionary<string, string> f)
    {
        var ids = new List<string>();
        foreach (var run in f.GetValueOrDefault("ids", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = run.LastIndexOf(':');
            string batch = run[..colon];
            int n = int.Parse(run[(colon + 1)..], CultureInfo.InvariantCulture);
            for (int j = 0; j < n; j++)
            {
                ids.Add(batch + "-" + j.ToString(CultureInfo.InvariantCulture));
            }
        }

        var iterations = f.GetValueOrDefault("iterations", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToList();
        return new EnqueueOutcome(int.Parse(f["count"], CultureInfo.InvariantCulture), ids,
            long.Parse(f["depth"], CultureInfo.InvariantCulture), iterations);
    }

    private RedisKey RecordKey(string user, string key) =>
        new QueueKeys(_queue.QueueName).Idempotency(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user + "\n" + key))));

    /// <summary>KEYS: record. ARGV: fingerprint, TTL s, now. Returns nothing when claimed, else the record's fields.</summary>
    private const string ClaimScript = """
        local existing = redis.call('HGETALL', KEYS[1])
        if #existing > 0 then return existing end
        redis.call('HSET', KEYS[1], 'state', 'pending', 'fingerprint', ARGV[1], 'at', ARGV[3])
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
        return {}
        """;
}

public enum ClaimState
{
    Claimed,
    Replay,
    InProgress,
    DifferentRequest,
    FailedPartWay,
}

/// <param name="Outcome">The first request's outcome, when <see cref="ClaimState.Replay"/>.</param>
/// <param name="FirstAt">When the first request with the key came.</param>
/// <param name="Error">What the first request's part-way failure left, when <see cref="ClaimState.FailedPartWay"/>.</param>
public sealed record Claim(ClaimState State, EnqueueOutcome? Outcome, string? FirstAt, string? Error = null);
