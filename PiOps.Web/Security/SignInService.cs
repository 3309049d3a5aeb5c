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

        var now = time.GetUtcNow();
        if (_failures.TryGetValue(name, out var f) && f.LockedUntil is { } until && until > now)
        {
            return new Outcome(null, $"This account is locked after {_o.MaxFailedSignIns} failed sign-ins: try again in {Math.Ceiling((until - now).TotalMinutes)} minute(s).");
        }

        var (canonical, role) = Verify(name, password ?? "");
        if (role is null)
        {
            var failures = _failures.AddOrUpdate(name, _ => new Failures(1, null), (_, old) => old with { Count = old.Count + 1 });
            if (failures.Count >= _o.MaxFailedSignIns)
            {
                _failures[name] = new Failures(0, now + _o.LockoutDuration);
                log.LogWarning("User {User} locked out for {Minutes} minutes after {Count} failed sign-ins from {Address}",
                    name, _o.LockoutDuration.TotalMinutes, _o.MaxFailedSignIns, from);
            }
            else
            {
                log.LogWarning("Failed sign-in for {User} from {Address}", name, from);
            }

            return new Outcome(null, "The user name or password is wrong.");
        }

        _failures.TryRemove(name, out _);
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
            // Constant time: the admin password is compared as bytes, not as a string that stops at the first difference.
            return (AdminUser, System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(password), System.Text.Encoding.UTF8.GetBytes(_o.AdminPassword)) ? Roles.Admin : null);
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

    private sealed record Failures(int Count, DateTimeOffset? LockedUntil);
}
