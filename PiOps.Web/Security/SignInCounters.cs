using System.Globalization;
using System.Net;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Sign-in attempts counted in Redis, so every dashboard replica sees the same lockout and per-address limit. Each
/// step is one Lua script, so two replicas counting at once never lose a count. Times are the caller's clock
/// (<see cref="TimeProvider"/>), kept in the values: a key's TTL only cleans up, it decides nothing, so a lockout ends
/// when the dashboard's clock says so, fake clocks in tests included.
/// </summary>
public sealed class SignInCounters(Func<IDatabase> database, DashboardKeys keys)
{
    /// <summary>
    /// A check (a password being verified) that has not reported its outcome after this long never will: its
    /// dashboard died or lost Redis mid-check. It then counts as a failure.
    /// </summary>
    public static readonly TimeSpan StaleCheck = TimeSpan.FromMinutes(1);

    /// <summary>How long a user name's failures are kept after its last attempt (or its lockout, when longer).</summary>
    public static readonly TimeSpan KeepFailures = TimeSpan.FromHours(24);

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public enum Verdict
    {
        /// <summary>The password may be checked; report the outcome with <see cref="EndAsync"/>.</summary>
        Go,

        /// <summary>The user name is locked out until the time given.</summary>
        Locked,

        /// <summary>Failures and checks under way already reach the limit.</summary>
        Busy,
    }

    // A fixed one-minute window per address, as the rate limiter it replaces: refused attempts do not count.
    private const string AddressScript = """
        local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
        if not start or tonumber(ARGV[1]) - start >= tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], 'start', ARGV[1], 'count', '1')
          redis.call('PEXPIRE', KEYS[1], ARGV[4])
          return 1
        end
        local count = tonumber(redis.call('HGET', KEYS[1], 'count')) or 0
        if count >= tonumber(ARGV[3]) then
          return 0
        end
        redis.call('HINCRBY', KEYS[1], 'count', 1)
        return 1
        """;

    // Fields: failures (in a row), lockedUntil (ms), check:{id} (ms the check began). A check takes its place before its
    // password is verified, so concurrent guesses on any number of replicas never verify more than the lockout allows.
    // ARGV: now, max failures, check id, stale ms, keep ms, lockout end if locked now.
    private const string BeginScript = """
        local now = tonumber(ARGV[1])
        local fields = redis.call('HGETALL', KEYS[1])
        local failures, lockedUntil, checking, stale = 0, nil, 0, 0
        for i = 1, #fields, 2 do
          local name, value = fields[i], tonumber(fields[i + 1])
          if name == 'failures' then
            failures = value or 0
          elseif name == 'lockedUntil' then
            lockedUntil = value
          elseif string.sub(name, 1, 6) == 'check:' then
            if not value or now - value >= tonumber(ARGV[4]) then
              redis.call('HDEL', KEYS[1], name)
              stale = stale + 1
            else
              checking = checking + 1
            end
          end
        end
        if lockedUntil then
          if lockedUntil > now then
            return {'locked', lockedUntil}
          end
          redis.call('HDEL', KEYS[1], 'lockedUntil')
        end
        if stale > 0 then
          failures = redis.call('HINCRBY', KEYS[1], 'failures', stale)
          if failures >= tonumber(ARGV[2]) then
            redis.call('HSET', KEYS[1], 'failures', '0', 'lockedUntil', ARGV[6])
            redis.call('PEXPIRE', KEYS[1], ARGV[5])
            return {'locked', tonumber(ARGV[6])}
          end
        end
        if failures + checking >= tonumber(ARGV[2]) then
          return {'busy', 0}
        end
        redis.call('HSET', KEYS[1], 'check:' .. ARGV[3], ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return {'go', 0}
        """;

    // ARGV: check id, '1' when the password was right, max failures, lockout end, keep ms. Returns 1 when this failure
    // locked the user name. A check already counted as stale by another begin is not counted twice.
    private const string EndScript = """
        local present = redis.call('HDEL', KEYS[1], 'check:' .. ARGV[1])
        if ARGV[2] == '1' then
          redis.call('HDEL', KEYS[1], 'failures')
          return 0
        end
        if present == 0 then
          return 0
        end
        local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        if failures >= tonumber(ARGV[3]) then
          redis.call('HSET', KEYS[1], 'failures', '0', 'lockedUntil', ARGV[4])
          return 1
        end
        return 0
        """;

    /// <summary>Counts an attempt from <paramref name="address"/>; false when the address is over its limit this minute.</summary>
    public async Task<bool> TryAttemptAsync(IPAddress address, int perMinute, DateTimeOffset now) =>
        (int)await database().ScriptEvaluateAsync(AddressScript, [keys.SignInAddress(address)],
            [Ms(now), (long)Window.TotalMilliseconds, perMinute, (long)(2 * Window).TotalMilliseconds]) == 1;

    /// <summary>Takes a place for a password check of <paramref name="user"/>, unless locked out or busy.</summary>
    public async Task<(Verdict Verdict, DateTimeOffset? LockedUntil)> BeginAsync(string user, string checkId, int maxFailures,
        TimeSpan lockout, DateTimeOffset now)
    {
        var reply = (RedisResult[])(await database().ScriptEvaluateAsync(BeginScript, [keys.SignInUser(user)],
            [Ms(now), maxFailures, checkId, (long)StaleCheck.TotalMilliseconds, Keep(lockout), Ms(now + lockout)]))!;
        return (string?)reply[0] switch
        {
            "go" => (Verdict.Go, null),
            "busy" => (Verdict.Busy, null),
            _ => (Verdict.Locked, DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1])),
        };
    }

    /// <summary>Reports a check's outcome; the lockout's end when this failure locked the user name, else null.</summary>
    public async Task<DateTimeOffset?> EndAsync(string user, string checkId, bool succeeded, int maxFailures, TimeSpan lockout,
        DateTimeOffset now)
    {
        var lockedUntil = now + lockout;
        int locked = (int)await database().ScriptEvaluateAsync(EndScript, [keys.SignInUser(user)],
            [checkId, succeeded ? "1" : "0", maxFailures, Ms(lockedUntil), Keep(lockout)]);
        return locked == 1 ? lockedUntil : null;
    }

    private static string Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static long Keep(TimeSpan lockout) => (long)(lockout > KeepFailures ? lockout : KeepFailures).TotalMilliseconds;
}
