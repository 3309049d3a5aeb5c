using PiOps.Shared.Redis;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using StackExchange.Redis;

namespace PiOps.Web.Audit;

/// <summary>One change someone asked for: who, when, from where, what, on what, with which parameters, and how it ended.</summary>
public sealed record AuditEntry(
    DateTimeOffset At,
    string User,
    string Role,
    string Address,
    string Via,
    string Action,
    string Target,
    string Parameters,
    bool Succeeded,
    string? Error);

/// <summary>
/// The audit trail: every change, successful or refused, in Redis under QUEUE:audit (newest first, bounded by
/// Audit:MaxEntries) and in the log. If Redis is unavailable the entry reaches the log at once and Redis once it answers.
/// </summary>
public sealed class AuditLog(RedisConnection redis, IOptions<QueueOptions> queue, IOptions<AuditOptions> options, ILogger<AuditLog> log)
{
    /// <summary>How long an entry Redis did not take is offered again.</summary>
    private static readonly TimeSpan RetryFor = TimeSpan.FromMinutes(10);

    private readonly RedisKey _key = new QueueKeys(queue.Value.QueueName).Audit;

    public async Task WriteAsync(AuditEntry entry)
    {
        if (entry.Succeeded)
        {
            log.LogInformation("Audit: {User} ({Role}) from {Address} via {Via}: {Action} {Target} {Parameters}: done",
                entry.User, entry.Role, entry.Address, entry.Via, entry.Action, entry.Target, entry.Parameters);
        }
        else
        {
            log.LogWarning("Audit: {User} ({Role}) from {Address} via {Via}: {Action} {Target} {Parameters}: refused or failed: {Error}",
                entry.User, entry.Role, entry.Address, entry.Via, entry.Action, entry.Target, entry.Parameters, entry.Error);
        }

        try
        {
            await StoreAsync(entry);
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            log.LogWarning("Audit entry not stored in Redis yet ({Message}); it is in this log, and is stored once Redis answers",
                ex.Message.Split('\n')[0]);
            // So a stall does not cost the trail the very changes made during it.
            RedisLater.Write(() => StoreAsync(entry), RetryFor, log,
                $"Audit entry of {entry.At:O} ({entry.Action} {entry.Target} by {entry.User}) not stored in Redis after {RetryFor.TotalMinutes} min; it is in this log only");
        }
    }

    private Task StoreAsync(AuditEntry entry)
    {
        var db = redis.Multiplexer.GetDatabase();
        var push = db.ListLeftPushAsync(_key, StoredJson.Serialize(entry));
        var trim = db.ListTrimAsync(_key, 0, options.Value.MaxEntries - 1);
        return Task.WhenAll(push, trim);
    }

    /// <summary>The newest entries first, at most <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(int count)
    {
        var values = await redis.Multiplexer.GetDatabase().ListRangeAsync(_key, 0, Math.Clamp(count, 1, options.Value.MaxEntries) - 1);
        return values.Select(v => StoredJson.Deserialize<AuditEntry>(v!)).OfType<AuditEntry>().ToList();
    }
}

/// <summary>Section "Audit".</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Entries kept in Redis; older ones are dropped (they stay in the log).</summary>
    public int MaxEntries { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        // 0 would keep nothing and make the Audit page's read of "the last 0 entries" fail.
        if (MaxEntries is < 1 or > 1_000_000)
        {
            yield return $"Audit:MaxEntries must be from 1 to 1,000,000 (got {MaxEntries}).";
        }
    }
}
