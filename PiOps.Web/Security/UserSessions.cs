using PiOps.Shared.Redis;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Sign-in sessions that can be ended, as Identity's security stamp does it: each user has a random stamp in Redis
/// (QUEUE:sessions, user to stamp, shared by every dashboard replica), every sign-in cookie carries the stamp it was
/// made with, and sign-out deletes it, which ends every session of that user. A session also ends when its user is
/// removed from the configuration or no longer has the role it signed in with, and after Auth:AbsoluteSessionLifetime.
/// </summary>
public sealed class UserSessions(RedisConnection redis, IOptions<QueueOptions> queue, IOptionsMonitor<AuthOptions> auth, TimeProvider time,
    ILogger<UserSessions> log)
{
    public const string StampClaim = "piops:stamp";
    public const string SignedInAtClaim = "piops:signed-in-at";

    /// <summary>An OpenID Connect user's role-claim values, so the role can be mapped again when the mapping changes.</summary>
    public const string OidcValueClaim = "piops:oidc-value";

    /// <summary>
    /// How long a stamp read from Redis is believed in this process. Ending sessions here clears it at once; another
    /// replica may honour a signed-out session for this long. It keeps a busy page (render acknowledgements count as
    /// activity) at one Redis read a second.
    /// </summary>
    public static readonly TimeSpan StampCacheTime = TimeSpan.FromSeconds(1);

    private readonly RedisKey _key = new QueueKeys(queue.Value.QueueName).Sessions;
    private readonly ConcurrentDictionary<string, (string Stamp, long ReadAt)> _stamps = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Marks a new sign-in: the user's stamp (made on first sign-in) and the time, as claims of the cookie.</summary>
    public async Task StartAsync(ClaimsIdentity identity)
    {
        string user = identity.Name ?? throw new InvalidOperationException("A signed-in user has a name.");
        var db = redis.Multiplexer.GetDatabase();
        await db.HashSetAsync(_key, Field(user), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), When.NotExists);
        string stamp = (string?)await db.HashGetAsync(_key, Field(user))
            ?? throw new InvalidOperationException($"The session of {user} could not be recorded in Redis.");
        foreach (var claim in identity.FindAll(c => c.Type is StampClaim or SignedInAtClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }

        identity.AddClaim(new Claim(StampClaim, stamp));
        identity.AddClaim(new Claim(SignedInAtClaim, time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Ends every session of <paramref name="user"/>, on every replica.</summary>
    public async Task EndAllAsync(string user)
    {
        _stamps.TryRemove(Field(user), out _);
        await redis.Multiplexer.GetDatabase().HashDeleteAsync(_key, Field(user));
        // Again: a read that began before the delete may have cached the old stamp meanwhile.
        _stamps.TryRemove(Field(user), out _);
        log.LogInformation("Every session of {User} ended", user);
    }

    /// <summary>
    /// Why a signed-in cookie's session is over, or null while it holds. Principals that are not from the sign-in
    /// cookie (an API token, the local Admin) hold here: they are checked where they come from.
    /// </summary>
    public async Task<string?> CheckAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity is not { IsAuthenticated: true, AuthenticationType: CookieAuthenticationDefaults.AuthenticationScheme } identity)
        {
            return null;
        }

        string user = identity.Name ?? "";
        string? stamp = principal.FindFirstValue(StampClaim);
        if (stamp is null || !long.TryParse(principal.FindFirstValue(SignedInAtClaim), CultureInfo.InvariantCulture, out long signedInAt))
        {
            return "the sign-in cookie has no session";
        }

        var o = auth.CurrentValue;
        if (time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(signedInAt) >= o.AbsoluteSessionLifetime)
        {
            return $"the session is older than Auth:AbsoluteSessionLifetime ({o.AbsoluteSessionLifetime})";
        }

        string? role = CurrentRole(principal, o);
        if (role is null)
        {
            return $"{user} is no longer a configured user";
        }

        if (!principal.IsInRole(role))
        {
            return $"{user}'s role is now {role}";
        }

        return await CurrentStampAsync(user) == stamp ? null : $"{user} signed out";
    }

    // The role the configuration gives this user now, or null if it no longer names them.
    private static string? CurrentRole(ClaimsPrincipal principal, AuthOptions o)
    {
        string user = principal.Identity!.Name ?? "";
        if (principal.FindFirstValue("piops:auth") == "oidc")
        {
            if (!o.Oidc.Enabled)
            {
                return null;
            }

            var values = principal.FindAll(OidcValueClaim).Select(c => new Claim(o.Oidc.RoleClaim, c.Value));
            return OidcRoles.Map(new ClaimsPrincipal(new ClaimsIdentity(values)), o.Oidc);
        }

        var account = o.Users.FirstOrDefault(u => string.Equals(u.Name, user, StringComparison.OrdinalIgnoreCase));
        if (account is not null)
        {
            return Roles.Parse(account.Role);
        }

        return string.Equals(user, SignInService.AdminUser, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(o.AdminPassword)
            ? Roles.Admin : null;
    }

    private async Task<string?> CurrentStampAsync(string user)
    {
        string field = Field(user);
        long now = time.GetTimestamp();
        if (_stamps.TryGetValue(field, out var cached) && time.GetElapsedTime(cached.ReadAt, now) < StampCacheTime)
        {
            return cached.Stamp;
        }

        string? stamp;
        try
        {
            stamp = await redis.Multiplexer.GetDatabase().HashGetAsync(_key, field);
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            // Redis is away: the stamp this replica last read is believed (a sign-out here still ended it); without
            // one the session cannot be checked, and is refused.
            // Debug: an outage is reported once by the readiness check and the banner, not on every request here.
            log.LogDebug("Could not read the session stamp of {User} from Redis: {Error}", user, ex.Message);
            return cached.Stamp;
        }

        if (stamp is null)
        {
            _stamps.TryRemove(field, out _);
        }
        else
        {
            _stamps[field] = (stamp, now);
        }

        return stamp;
    }

    // User names compare without case, as sign-in does.
    private static string Field(string user) => user.ToLowerInvariant();

    /// <summary>Keeps an OpenID Connect user's role-claim values (at most 100) on the principal PiOps signs in.</summary>
    public static void KeepOidcValues(ClaimsPrincipal from, ClaimsPrincipal to, OidcSettings settings)
    {
        var identity = (ClaimsIdentity)to.Identity!;
        foreach (var value in from.FindAll(settings.RoleClaim).Select(c => c.Value).Distinct(StringComparer.Ordinal).Take(100))
        {
            identity.AddClaim(new Claim(OidcValueClaim, value));
        }
    }
}
