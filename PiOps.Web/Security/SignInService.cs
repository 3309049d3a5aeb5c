using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace PiOps.Web.Security;

/// <summary>
/// Checks a user name and password against the configured users and the admin password, with a lockout after
/// repeated failures per user name and a limit on attempts per address. The outcome is a sentence for the page;
/// it never says whether the user name exists.
/// </summary>
public sealed class SignInService(IOptions<AuthOptions> options, TimeProvider time, ILogger<SignInService> log) : IDisposable
{
    public const string AdminUser = "admin";

    private readonly AuthOptions _o = options.Value;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly PartitionedRateLimiter<IPAddress> _perAddress = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.SignInAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
        }));

    public sealed record Outcome(ClaimsPrincipal? User, string? Error);

    public Outcome SignIn(string? userName, string? password, IPAddress? from)
    {
        string name = (userName ?? "").Trim();
        using var lease = _perAddress.AttemptAcquire(from ?? IPAddress.None);
        if (!lease.IsAcquired)
        {
            log.LogWarning("Sign-in attempts from {Address} are over the limit of {Limit} a minute", from, _o.SignInAttemptsPerMinute);
            return new Outcome(null, $"Too many sign-in attempts from your address: wait a minute and try again.");
        }

        // Count, then check: a guess takes its place before its password is checked, so concurrent guesses never
        // check more passwords than the lockout allows.
        var state = _failures.GetOrAdd(name, _ => new Failures());
        lock (state)
        {
            var now = time.GetUtcNow();
            if (state.LockedUntil is { } until && until > now)
            {
                return new Outcome(null, $"This account is locked after {_o.MaxFailedSignIns} failed sign-ins: try again in {Math.Ceiling((until - now).TotalMinutes)} minute(s).");
            }

            if (state.Count + state.Checking >= _o.MaxFailedSignIns)
            {
                return new Outcome(null, "Other sign-ins to this account are being checked: try again in a moment.");
            }

            state.Checking++;
        }

        var (canonical, role) = Verify(name, password ?? "");
        lock (state)
        {
            state.Checking--;
            if (role is not null)
            {
                state.Count = 0;
            }
            else if (++state.Count >= _o.MaxFailedSignIns)
            {
                state.Count = 0;
                state.LockedUntil = time.GetUtcNow() + _o.LockoutDuration;
                log.LogWarning("User {User} locked out for {Minutes} minutes after {Count} failed sign-ins from {Address}",
                    name, _o.LockoutDuration.TotalMinutes, _o.MaxFailedSignIns, from);
            }
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

    public void Dispose() => _perAddress.Dispose();

    // A user name's failures in a row, guesses being checked now, and the end of its lockout; guarded by its own lock.
    private sealed class Failures
    {
        public int Count;
        public int Checking;
        public DateTimeOffset? LockedUntil;
    }
}
