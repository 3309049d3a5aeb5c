using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

// Impersonation as the API server does it (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the
// requester must hold `impersonate` on `users` and on `groups` for each name asked (resourceNames), checked with the
// cluster-scope rules bound to it; then the request is authorised as the impersonated user and groups (plus
// system:authenticated), never as the requester. The rules are the chart's own rendered ClusterRoles, Roles and
// bindings (UseRbac), never KubernetesPermissions. Without them nobody may impersonate, as on a cluster without them.
// The service account's own calls are authorised by the same objects (ServiceAccountMay).
public sealed partial class KubeApiDouble
{
    /// <summary>The release namespace the chart is rendered for; its Roles stand for <see cref="Namespace"/>'s here.</summary>
    public const string ChartReleaseNamespace = "ops";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<List<IKubernetesObject>>> Rendered = new();
    private readonly object _rbacGate = new();
    private List<IKubernetesObject> _rbac = [];

    /// <summary>
    /// The chart's RBAC objects, rendered once per set of values: with its defaults, or for a dashboard that also
    /// operates <paramref name="moreNamespaces"/> (dashboard.namespaces, one Role and RoleBinding in each).
    /// </summary>
    public static List<IKubernetesObject> ChartRbac(params string[] moreNamespaces)
    {
        string values = moreNamespaces.Length == 0 ? "" : $"dashboard:\n  namespaces: [{string.Join(", ", moreNamespaces)}]\n";
        return Rendered.GetOrAdd(values, v => new Lazy<List<IKubernetesObject>>(() =>
            PiOps.Tests.Chart.HelmChart.Objects(v.Length == 0 ? PiOps.Tests.Chart.HelmChart.Render() : PiOps.Tests.Chart.HelmChart.RenderWithValues(v)))).Value;
    }

    // The service account's request, by the Roles and ClusterRoles the chart binds to it (rbac.go RuleAllows).
    private bool ServiceAccountMay(string group, string resource, string verb, string ns, string? name)
    {
        string serviceAccountName = ServiceAccount[(ServiceAccount.LastIndexOf(':') + 1)..];
        bool IsRequester(Rbacv1Subject s) => s.Kind == "ServiceAccount" && s.Name == serviceAccountName;
        return NamespaceAllows(IsRequester, ns, group, resource, verb, name) || ClusterAllows(IsRequester, group, resource, verb, name);
    }

    /// <summary>
    /// The RBAC objects that decide impersonated requests: the chart rendered for release namespace
    /// <paramref name="releaseNamespace"/>, which stands for <see cref="Namespace"/> here.
    /// </summary>
    public void UseRbac(IEnumerable<IKubernetesObject> objects, string releaseNamespace)
    {
        // The doubles only read the rewritten copies, so one copy per rendering and release namespace serves them all.
        var list = Rewritten.GetOrAdd((objects, releaseNamespace), key => new Lazy<List<IKubernetesObject>>(() => RbacFor(key.Objects, key.ReleaseNamespace))).Value;
        lock (_rbacGate)
        {
            _rbac = list;
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(IEnumerable<IKubernetesObject> Objects, string ReleaseNamespace), Lazy<List<IKubernetesObject>>> Rewritten =
        new(new RenderingComparer());

    // A rendering is one list object (ChartRbac caches them), so it is told apart by reference.
    private sealed class RenderingComparer : IEqualityComparer<(IEnumerable<IKubernetesObject> Objects, string ReleaseNamespace)>
    {
        public bool Equals((IEnumerable<IKubernetesObject> Objects, string ReleaseNamespace) x, (IEnumerable<IKubernetesObject> Objects, string ReleaseNamespace) y) =>
            ReferenceEquals(x.Objects, y.Objects) && x.ReleaseNamespace == y.ReleaseNamespace;

        public int GetHashCode((IEnumerable<IKubernetesObject> Objects, string ReleaseNamespace) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Objects), key.ReleaseNamespace);
    }

    // Copies of the RBAC objects (the rendered ones are shared), with the release namespace's Roles moved to Namespace.
    private static List<IKubernetesObject> RbacFor(IEnumerable<IKubernetesObject> objects, string releaseNamespace)
    {
        var list = new List<IKubernetesObject>();
        foreach (var o in objects.Select(o => (IKubernetesObject)KubernetesYaml.LoadAllFromString(KubernetesYaml.Serialize(o)).Single()))
        {
            if (o is V1Role or V1RoleBinding && o is IMetadata<V1ObjectMeta> m)
            {
                m.Metadata.NamespaceProperty = m.Metadata.NamespaceProperty is null or "" || m.Metadata.NamespaceProperty == releaseNamespace
                    ? Namespace : m.Metadata.NamespaceProperty;
            }

            if (o is V1ClusterRole or V1ClusterRoleBinding or V1Role or V1RoleBinding)
            {
                list.Add(o);
            }
        }

        return list;
    }

    private static bool IsImpersonating(HttpContext ctx) => ctx.Request.Headers.ContainsKey("Impersonate-User");

    /// <summary>Answers 403 and returns true when the impersonation, or the request as the impersonated user, is refused.</summary>
    private async Task<bool> RefuseImpersonatedAsync(HttpContext ctx, string group, string resource, string verb, string ns, string? name)
    {
        string user = ctx.Request.Headers["Impersonate-User"].ToString();
        var groups = ctx.Request.Headers["Impersonate-Group"].Where(g => !string.IsNullOrEmpty(g)).Select(g => g!).ToList();
        string serviceAccountName = ServiceAccount[(ServiceAccount.LastIndexOf(':') + 1)..];
        bool IsRequester(Rbacv1Subject s) => s.Kind == "ServiceAccount" && s.Name == serviceAccountName;

        foreach (var (kind, asked) in new[] { ("users", user) }.Concat(groups.Select(g => ("groups", g))))
        {
            if (!ClusterAllows(IsRequester, "", kind, "impersonate", asked))
            {
                // responsewriters.Forbidden: NewForbidden(users/groups, name, "User ... cannot impersonate ... at the cluster scope").
                await WriteStatus(ctx, 403, "Forbidden",
                    $"{kind} \"{asked}\" is forbidden: User \"{ServiceAccount}\" cannot impersonate resource \"{kind}\" in API group \"\" at the cluster scope",
                    new JsonObject { ["name"] = asked, ["kind"] = kind });
                return true;
            }
        }

        // impersonation.go adds system:authenticated to an impersonated user other than system:anonymous.
        groups.Add("system:authenticated");
        bool IsImpersonated(Rbacv1Subject s) => (s.Kind == "User" && s.Name == user) || (s.Kind == "Group" && groups.Contains(s.Name));
        if (ClusterAllows(IsImpersonated, group, resource, verb, name) || NamespaceAllows(IsImpersonated, ns, group, resource, verb, name))
        {
            return false;
        }

        string target = name is null ? $"{resource.Split('/')[0]}{(group == "" ? "" : "." + group)}" : $"{resource.Split('/')[0]}{(group == "" ? "" : "." + group)} \"{name}\"";
        await WriteStatus(ctx, 403, "Forbidden",
            $"{target} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\"",
            new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = resource.Split('/')[0] });
        return true;
    }

    private bool ClusterAllows(Func<Rbacv1Subject, bool> subject, string group, string resource, string verb, string? name)
    {
        lock (_rbacGate)
        {
            return _rbac.OfType<V1ClusterRoleBinding>()
                .Where(b => b.Subjects?.Any(subject) == true)
                .SelectMany(b => _rbac.OfType<V1ClusterRole>().Where(r => r.Metadata.Name == b.RoleRef.Name))
                .SelectMany(r => r.Rules ?? [])
                .Any(r => Matches(r, group, resource, verb, name));
        }
    }

    private bool NamespaceAllows(Func<Rbacv1Subject, bool> subject, string ns, string group, string resource, string verb, string? name)
    {
        lock (_rbacGate)
        {
            return _rbac.OfType<V1RoleBinding>()
                .Where(b => b.Metadata.NamespaceProperty == ns && b.Subjects?.Any(subject) == true)
                .SelectMany(b => b.RoleRef.Kind == "ClusterRole"
                    ? _rbac.OfType<V1ClusterRole>().Where(r => r.Metadata.Name == b.RoleRef.Name).SelectMany(r => r.Rules ?? [])
                    : _rbac.OfType<V1Role>().Where(r => r.Metadata.Name == b.RoleRef.Name && r.Metadata.NamespaceProperty == ns).SelectMany(r => r.Rules ?? []))
                .Any(r => Matches(r, group, resource, verb, name));
        }
    }

    // plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows: verb, group, resource (with subresource) and, when the rule
    // has resourceNames, the request's name must be one of them (a list or create, which has no name, never matches).
    private static bool Matches(V1PolicyRule rule, string group, string resource, string verb, string? name) =>
        rule.Verbs.Any(v => v == "*" || v == verb)
        && (rule.ApiGroups ?? []).Any(g => g == "*" || g == group)
        && (rule.Resources ?? []).Any(r => r == "*" || r == resource)
        && (rule.ResourceNames is not { Count: > 0 } || (name is not null && rule.ResourceNames.Contains(name)));
}
