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
        // Workers Deployment: the cache lists and watches it and its pods; scaling patches the scale subresource.
        new("apps", "deployments", ["list", "watch"]),
        new("apps", "deployments/scale", ["patch"]),
        // patch: the pod-deletion-cost annotation, so a scale-down removes idle workers first.
        new("", "pods", ["list", "watch", "patch"]),
        new("", "pods/log", ["get"]),
        new("", "events", ["list", "watch"]),

        // The workers' CPU and memory: metrics-server's PodMetrics, listed with the workers' selector.
        new("metrics.k8s.io", "pods", ["get", "list"]),

        // Jobs: create from templates or YAML, delete with propagation, re-run (get, a dry-run create, delete, get until
        // gone, create; create again to put the Job back when the create after the delete fails).
        new("batch", "jobs", ["get", "list", "watch", "create", "delete"]),

        // CronJobs: create, patch the schedule or suspend, delete; "run now" gets the template and creates a Job.
        new("batch", "cronjobs", ["get", "list", "watch", "create", "patch", "delete"]),

        // The HPA of the workers: create or patch it; turning the autoscaler off deletes it.
        new("autoscaling", "horizontalpodautoscalers", ["list", "watch", "create", "patch", "delete"]),

        // KEDA's ScaledObject of the workers, where the CRD is installed: edits go to it, off deletes it.
        new("keda.sh", "scaledobjects", ["list", "watch", "patch", "delete"]),
    ];
}

/// <summary>One RBAC rule: verbs on a resource of an API group ("" is the core group).</summary>
public sealed record PermissionRule(string ApiGroup, string Resource, IReadOnlyList<string> Verbs);
