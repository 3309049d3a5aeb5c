using Microsoft.AspNetCore.Identity;

namespace PiOps.Web.Security;

/// <summary>
/// Sign-in (section "Auth"). With none of users, an admin password or OpenID Connect configured, sign-in is off and
/// only this machine is served (the safe default); with any of them, every request must be signed in.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Users: name, a password hash from `dotnet run --project PiOps.Web -- hash-password`, and a role.</summary>
    public List<UserAccount> Users { get; set; } = [];

    /// <summary>One password for the user "admin" (role Admin), e.g. from the chart's Secret (Auth__AdminPassword).</summary>
    public string? AdminPassword { get; set; }

    public OidcSettings Oidc { get; set; } = new();

    /// <summary>Failed sign-ins in a row after which a user name is locked out.</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sign-in attempts per minute from one address.</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>How long a sign-in lasts without activity.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a sign-in lasts at most, however active: the sliding expiry above never extends it.</summary>
    public TimeSpan AbsoluteSessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses (10.0.0.5) or networks
    /// (10.0.0.0/8). None by default: then the headers are ignored, whoever sends them.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Act on the Kubernetes API as the signed-in user (Impersonate-User and Impersonate-Group headers).</summary>
    public bool Impersonate { get; set; }

    public bool Enabled => Users.Count > 0 || !string.IsNullOrEmpty(AdminPassword) || Oidc.Enabled;

    public IEnumerable<string> Validate()
    {
        var hasher = new PasswordHasher<string>();
        for (int i = 0; i < Users.Count; i++)
        {
            var u = Users[i];
            if (string.IsNullOrWhiteSpace(u.Name))
            {
                yield return $"Auth:Users:{i}:Name is empty.";
            }

            if (Roles.Parse(u.Role) is null)
            {
                yield return $"Auth:Users:{i}:Role \"{u.Role}\" is not one of {string.Join(", ", Roles.All)}.";
            }

            if (!PasswordHashes.LooksValid(u.PasswordHash))
            {
                yield return $"Auth:Users:{i}:PasswordHash is not a password hash: make one with `dotnet run --project PiOps.Web -- hash-password`.";
            }
        }

        foreach (var name in Users.GroupBy(u => u.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            yield return $"Auth:Users names {name} more than once.";
        }

        if (AdminPassword is { Length: > 0 and < 8 })
        {
            yield return "Auth:AdminPassword must be at least 8 characters.";
        }

        if (Oidc.Enabled)
        {
            if (!Uri.TryCreate(Oidc.Authority, UriKind.Absolute, out _))
            {
                yield return $"Auth:Oidc:Authority \"{Oidc.Authority}\" is not an absolute URL.";
            }

            if (string.IsNullOrWhiteSpace(Oidc.ClientId))
            {
                yield return "Auth:Oidc:ClientId is needed with Auth:Oidc:Authority.";
            }

            foreach (var (claim, role) in Oidc.Roles.Where(r => Roles.Parse(r.Value) is null))
            {
                yield return $"Auth:Oidc:Roles:{claim} maps to \"{role}\", which is not one of {string.Join(", ", Roles.All)}.";
            }

            if (Roles.Parse(Oidc.DefaultRole) is null && !string.IsNullOrEmpty(Oidc.DefaultRole))
            {
                yield return $"Auth:Oidc:DefaultRole \"{Oidc.DefaultRole}\" is not one of {string.Join(", ", Roles.All)}.";
            }
        }

        if (MaxFailedSignIns is < 1 or > 100)
        {
            yield return $"Auth:MaxFailedSignIns must be from 1 to 100 (got {MaxFailedSignIns}).";
        }

        if (SignInAttemptsPerMinute is < 1 or > 10_000)
        {
            yield return $"Auth:SignInAttemptsPerMinute must be from 1 to 10,000 (got {SignInAttemptsPerMinute}).";
        }

        if (SessionLifetime <= TimeSpan.Zero)
        {
            yield return $"Auth:SessionLifetime must be more than zero (got {SessionLifetime}).";
        }

        if (AbsoluteSessionLifetime <= TimeSpan.Zero || AbsoluteSessionLifetime > TimeSpan.FromDays(30))
        {
            yield return $"Auth:AbsoluteSessionLifetime must be more than zero and at most 30 days (got {AbsoluteSessionLifetime}).";
        }

        foreach (var proxy in KnownProxies.Where(p => !System.Net.IPAddress.TryParse(p, out _) && !System.Net.IPNetwork.TryParse(p, out _)))
        {
            yield return $"Auth:KnownProxies holds \"{proxy}\", which is not an IP address or a network such as 10.0.0.0/8.";
        }
    }
}

public sealed class UserAccount
{
    public string Name { get; set; } = "";

    public string PasswordHash { get; set; } = "";

    public string Role { get; set; } = Roles.Viewer;
}

/// <summary>OpenID Connect sign-in; roles come from a claim (e.g. groups) mapped through <see cref="Roles"/>.</summary>
public sealed class OidcSettings
{
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public List<string> Scopes { get; set; } = ["openid", "profile", "email"];

    /// <summary>The claim that carries groups or roles.</summary>
    public string RoleClaim { get; set; } = "groups";

    /// <summary>Claim value (e.g. a group) to role; the highest role a user's values map to wins.</summary>
    public Dictionary<string, string> Roles { get; set; } = [];

    /// <summary>The role of a signed-in user none of whose values is mapped; empty refuses them.</summary>
    public string? DefaultRole { get; set; } = Security.Roles.Viewer;

    /// <summary>Only for a test identity provider on loopback; never in production.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}
