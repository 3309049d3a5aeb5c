using PiOps.Shared.Redis;
using StackExchange.Redis;

namespace PiOps.Web.HighAvailability;

/// <summary>
/// A lease in Redis, so that of several dashboard replicas one at a time runs a duty. Taken with SET NX PX, renewed
/// and released only by its holder (a script compares the value first), and believed only until its TTL, counted on
/// this process's monotonic clock from before the command that took or renewed it, may have run out in Redis: a holder
/// that cannot reach Redis stops believing it holds the lease before anyone else can take it.
/// </summary>
public sealed class RedisLease(Func<IDatabase> database, RedisKey key, string duty, string holder, TimeSpan ttl, TimeProvider clock)
{
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    // Redis and this process measure the TTL on different clocks; Redlock allows 1% drift and 2 ms for it.
    private readonly long _validity = clock.TimestampFrequency * (long)(ttl.TotalMilliseconds * 0.99 - 2) / 1000;
    private long _heldUntil;
    private volatile string? _heldBy;

    /// <summary>What the lease is for, e.g. "recovery": the last part of its key.</summary>
    public string Duty { get; } = duty;

    /// <summary>This process's id, the value the lease holds while this process has it.</summary>
    public string Holder { get; } = holder;

    public TimeSpan Ttl { get; } = ttl;

    /// <summary>Whether this process holds the lease now: taken or renewed less than the TTL ago.</summary>
    public bool IsHeld => Volatile.Read(ref _heldUntil) is var until and not 0 && clock.GetTimestamp() < until;

    /// <summary>Who held the lease at the last look: this process, another's id, or null (nobody, or Redis unreachable).</summary>
    public string? HeldBy => IsHeld ? Holder : _heldBy == Holder ? null : _heldBy;

    /// <summary>Takes the lease if nobody holds it (SET NX PX). True when this process holds it now.</summary>
    public async Task<bool> TryTakeAsync()
    {
        long start = clock.GetTimestamp();
        if (await database().StringSetAsync(key, Holder, Ttl, When.NotExists))
        {
            Held(start);
            return true;
        }

        // Someone holds it: say who. If that is this process (its belief ran out, the key did not), renew.
        _heldBy = (string?)await database().StringGetAsync(key);
        return _heldBy == Holder && await RenewAsync();
    }

    /// <summary>Extends the lease by its TTL if this process still holds it in Redis; false (and not held) otherwise.</summary>
    public async Task<bool> RenewAsync()
    {
        long start = clock.GetTimestamp();
        if ((int)await database().ScriptEvaluateAsync(RenewScript, [key], [Holder, (long)Ttl.TotalMilliseconds]) == 1)
        {
            Held(start);
            return true;
        }

        Volatile.Write(ref _heldUntil, 0);
        _heldBy = null;
        return false;
    }

    /// <summary>
    /// One turn of a would-be holder: renews the lease it holds, else tries to take it. Returns when to try next: the
    /// renewal interval, or sooner when the other holder's lease runs out before that.
    /// </summary>
    public async Task<TimeSpan> HoldAsync(TimeSpan renewInterval)
    {
        try
        {
            if (_heldBy == Holder && await RenewAsync())
            {
                return renewInterval;
            }

            if (await TryTakeAsync())
            {
                return renewInterval;
            }

            // Held by another: look again just after its TTL would run out, if that comes first.
            var left = await database().KeyTimeToLiveAsync(key);
            return left is { } l && l < renewInterval ? l + TimeSpan.FromMilliseconds(20) : renewInterval;
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            // Unknown: still held for the rest of its TTL at most (IsHeld counts it down), shown as nobody's.
            _heldBy = null;
            throw;
        }
    }

    /// <summary>Gives the lease up (clean shutdown), so another replica takes it at once rather than after the TTL.</summary>
    public async Task ReleaseAsync()
    {
        Volatile.Write(ref _heldUntil, 0);
        _heldBy = null;
        await database().ScriptEvaluateAsync(ReleaseScript, [key], [Holder]);
    }

    private void Held(long start)
    {
        _heldBy = Holder;
        Volatile.Write(ref _heldUntil, start + _validity);
    }
}
