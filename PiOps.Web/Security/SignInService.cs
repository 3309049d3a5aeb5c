using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using PiOps.Shared.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Checks a user name and password against the configured users and the admin password, with a lockout after
/// repeated failures per user name and a limit on attempts per address, both counted in Redis for every replica
/// (<see cref="SignInCounters"/>). The outcome is a sentence for the page; it never says whether the user name exists.
/// Without Redis nobody signs in (docs/decisions.md): no password is checked that cannot be counted.
/// </summary>
public sealed class SignInService(IOptions<AuthOptions> options, SignInCounters counters, TimeProvider time, ILogger<SignInService> log)
{
    public const string AdminUser = "admin";

    /// <summary>The page's sentence while the counts cannot be read or written.</summary>
    public const string Unavailable =
        "Sign-in is unavailable: the dashboard cannot reach Redis, where it counts sign-in attempts. Try again in a minute.";

    private readonly AuthOptions _o = options.Value;

    public sealed record Outcome(ClaimsPrincipal? User, string? Error);

    public async Task<Outcome> SignInAsync(string? userName, string? password, IPAddress? from)
    {
        string name = (userName ?? "").Trim();
        var address = from ?? IPAddress.None;
        string check = Guid.NewGuid().ToString("N");
        try
        {
            if (!await counters.TryAttemptAsync(address, _o.SignInAttemptsPerMinute, time.GetUtcNow()))
            {
                log.LogWarning("Sign-in attempts from {Address} are over the limit of {Limit} a minute", from, _o.SignInAttemptsPerMinute);
                return new Outcome(null, "Too many sign-in attempts from your address: wait a minute and try again.");
            }

            // Count, then check: a guess takes its place before its password is checked, so concurrent guesses (on any
            // replica) never check more passwords than the lockout allows.
            var now = time.GetUtcNow();
            var (verdict, lockedUntil) = await counters.BeginAsync(name, check, _o.MaxFailedSignIns, _o.LockoutDuration, now);
            if (verdict == SignInCounters.Verdict.Locked)
            {
                return new Outcome(null, $"This account is locked after {_o.MaxFailedSignIns} failed sign-ins: try again in {Math.Ceiling((lockedUntil!.Value - now).TotalMinutes)} minute(s).");
            }

            if (verdict == SignInCounters.Verdict.Busy)
            {
                return new Outcome(null, "Other sign-ins to this account are being checked: try again in a moment.");
            }
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            log.LogError("Sign-in refused for {User} from {Address}: the sign-in counts in Redis cannot be read ({Message})", name, from, ex.Message);
            return new Outcome(null, Unavailable);
        }

        var (canonical, role) = Verify(name, password ?? "");
        try
        {
            if (await counters.EndAsync(name, check, role is not null, _o.MaxFailedSignIns, _o.LockoutDuration, time.GetUtcNow()) is not null)
            {
                log.LogWarning("User {User} locked out for {Minutes} minutes after {Count} failed sign-ins, the last from {Address}",
                    name, _o.LockoutDuration.TotalMinutes, _o.MaxFailedSignIns, from);
            }
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            // The outcome was not counted: refuse either way. A check never reported counts as a failure after
            // SignInCounters.StaleCheck, so a guesser gains nothing by cutting Redis off mid-check.
            log.LogError("Sign-in refused for {User} from {Address}: its outcome could not be counted in Redis ({Message})", name, from, ex.Message);
            return new Outcome(null, Unavailable);
        }

        if (role is null)
        {
            log.LogWarning("Failed sign-in for {User} from {Address}", name, from);
            return new Outcome(null, "The user name or password is wrong.");
        }

        log.LogInformation("User {User} signed in as {Role} from {Address}", canonical, role, from);
        return new Outcome(Principal(canonical, role, CookieAuthenticationDefaults.AuthenticationScheme), null);
    }

    // The name as configured and the role, or a null role.
    private (string Name, string? Role) Verify(string name, string password)
    {
        var user = _o.Users.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.OrdinalIgnoreCase));
        if (user is not null)
        {
            return (user.Name, PasswordHashes.Verify(user.PasswordHash, password) ? Roles.Parse(user.Role) : null);
        }

        if (string.Equals(name, AdminUser, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(_o.AdminPassword))
        {
            // The same work as for any other name (a hash verified), so timing does not tell that the admin password
            // is set; then a constant-time comparison of fixed-length digests.
            PasswordHashes.Verify(DummyHash, password);
            return (AdminUser, System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(password)),
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_o.AdminPassword))) ? Roles.Admin : null);
        }

        // An unknown user costs a hash like a known one, so timing does not tell which names exist.
        PasswordHashes.Verify(DummyHash, password);
        return (name, null);
    }

    private static readonly string DummyHash = PasswordHashes.Hash(Guid.NewGuid().ToString());

    public static ClaimsPrincipal Principal(string name, string role, string scheme, string? authMethod = null) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role), new Claim("piops:auth", authMethod ?? scheme)],
            scheme, ClaimTypes.Name, ClaimTypes.Role));
}
