using System.Security.Claims;

namespace PiOps.Web.Security;

/// <summary>The PiOps role of an OpenID Connect user: the highest role any of their group (or role) claims maps to.</summary>
public static class OidcRoles
{
    public static string? Map(ClaimsPrincipal principal, OidcSettings settings)
    {
        var values = principal.FindAll(settings.RoleClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var mapped = settings.Roles.Where(r => values.Contains(r.Key)).Select(r => Roles.Parse(r.Value)).OfType<string>().ToList();
        return mapped.Count > 0 ? mapped.MaxBy(r => Array.IndexOf(Roles.All, r)) : Roles.Parse(settings.DefaultRole);
    }
}
