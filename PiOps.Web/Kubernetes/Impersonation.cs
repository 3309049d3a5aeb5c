using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// With Auth:Impersonate on, each call made for a signed-in user carries Impersonate-User (their name) and
/// Impersonate-Group (piops:ROLE), so the cluster's own RBAC decides; the dashboard's service account then needs the
/// impersonate verb on those users and groups. The user is passed with the call (<see cref="Actor"/>); calls of the
/// dashboard's own (the cache's lists and watches, log streams, pod deletion costs) go as the service account.
/// </summary>
public sealed class Impersonation(bool on)
{
    public const string GroupPrefix = "piops:";

    /// <summary>The group a role is impersonated in; the chart binds piops:viewer, piops:operator and piops:admin, lower case as RBAC names go.</summary>
    public static string Group(Actor by) => GroupPrefix + by.Role.ToLowerInvariant();

    /// <summary>The headers of a call made for <paramref name="by"/>; null when it goes as the service account.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Headers(Actor? by) => on && by is not null
        ? new Dictionary<string, IReadOnlyList<string>>
        {
            ["Impersonate-User"] = [by.Name],
            ["Impersonate-Group"] = [Group(by)],
        }
        : null;
}
