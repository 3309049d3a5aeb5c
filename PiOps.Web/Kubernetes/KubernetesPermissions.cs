namespace PiOps.Web.Kubernetes;

/// <summary>
/// Every Kubernetes API call the dashboard may make, as RBAC rules: the one source of truth. The Helm chart's Role
/// grants exactly these (a test compares them), and the Kubernetes implementation names the rule behind each call,
/// so a 403 can say which verb on which resource is missing. Namespaced only; no Secrets.
/// </summary>
public static class KubernetesPermissions
{
    public static IReadOnlyList<PermissionRule> Rules { get; } =
    [
        // Workers Deployment: see it and its pods, scale it.
        new("apps", "deployments", ["get", "list", "watch"]),
        new("apps", "deployments/scale", ["get", "patch", "update"]),
        new("", "pods", ["get", "list", "watch"]),
        new("", "pods/log", ["get"]),
        new("", "events", ["get", "list", "watch"]),

        // Jobs: create from templates or YAML, delete with propagation, re-run (delete then create).
        new("batch", "jobs", ["get", "list", "watch", "create", "delete"]),

        // CronJobs: create, edit the schedule, suspend/resume, delete; "run now" creates a Job.
        new("batch", "cronjobs", ["get", "list", "watch", "create", "patch", "delete"]),

        // Autoscaling: the HPA of the workers, or KEDA's ScaledObject when that API exists.
        new("autoscaling", "horizontalpodautoscalers", ["get", "list", "watch", "patch"]),
        new("keda.sh", "scaledobjects", ["get", "list", "watch", "patch"]),
    ];
}

/// <summary>One RBAC rule: verbs on a resource of an API group ("" is the core group).</summary>
public sealed record PermissionRule(string ApiGroup, string Resource, IReadOnlyList<string> Verbs);
