using System.Text.RegularExpressions;

namespace PiOps.Web.Kubernetes;

public enum KubernetesMode
{
    /// <summary>In a pod: the service account. Else a kubeconfig if there is one. Else the local runtime.</summary>
    Auto,

    /// <summary>The local runtime (or none), whatever kubeconfig exists.</summary>
    Local,

    /// <summary>The Kubernetes API; the process refuses to start without a usable configuration.</summary>
    Kubernetes,
}

/// <summary>Where and what PiOps operates on a cluster (section "Kubernetes").</summary>
public sealed partial class KubernetesOptions
{
    public const string Section = "Kubernetes";

    public KubernetesMode Mode { get; set; } = KubernetesMode.Auto;

    /// <summary>A kubeconfig file; empty uses KUBECONFIG, then ~/.kube/config.</summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>A context of the kubeconfig; empty uses its current context.</summary>
    public string? Context { get; set; }

    /// <summary>
    /// The default namespace. Empty: the first of <see cref="Namespaces"/> when they are listed, else the pod's own
    /// namespace in the cluster, else the context's, else "default".
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// Optional: every namespace the dashboard operates (Kubernetes:Namespaces:0, :1, ...), each with its own cache, and
    /// a choice in the UI. When <see cref="Namespace"/> is set it must be one of them; when it is empty the first is
    /// the default.
    /// </summary>
    public List<string?> Namespaces { get; set; } = [];

    /// <summary>Each namespace holds six lists and watches open (seven with KEDA's ScaledObjects): this bounds the API load.</summary>
    public const int MaxNamespaces = 10;

    /// <summary>The workers Deployment (the chart names it pi-worker by default).</summary>
    public string WorkersDeployment { get; set; } = "pi-worker";

    /// <summary>
    /// The label PiOps puts on the Jobs and CronJobs it creates and shows, as key=value. The chart's own Job templates
    /// carry the same label, so they show too.
    /// </summary>
    public string ManagedLabel { get; set; } = Workloads.PodSettings.ManagedLabel;

    /// <summary>Show every Job and CronJob of the namespace, not only those with <see cref="ManagedLabel"/>.</summary>
    public bool ShowAllJobs { get; set; }

    /// <summary>The image of the Jobs PiOps creates from its templates.</summary>
    public string WorkerImage { get; set; } = Workloads.PodSettings.BookImage;

    /// <summary>REDIS_HOST and REDIS_PORT given to the pods of created Jobs (the chart's Redis Service by default).</summary>
    public string RedisHost { get; set; } = "redis";

    public int RedisPort { get; set; } = 6379;

    /// <summary>A watch ends after this long (the server closes it) and is started again: no watch hangs forever.</summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a re-run waits for the old Job to be gone before it gives up and creates nothing: a finalizer of
    /// another controller (a backup tool, a policy engine) can hold a deleted Job for as long as it likes.
    /// </summary>
    public TimeSpan JobDeletionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the workers' PodMetrics are read (metrics-server measures every 15 s by default).</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Most replicas the dashboard sets, by scaling or in the autoscaler.</summary>
    public int MaxReplicas { get; set; } = 100;

    /// <summary>
    /// The external metric an HPA made by PiOps reads for the queue length (served by e.g. prometheus-adapter from the
    /// dashboard's /metrics).
    /// </summary>
    public string QueueMetricName { get; set; } = "piops_queue_depth";

    public (string Key, string Value) ManagedLabelPair
    {
        get
        {
            int eq = ManagedLabel.IndexOf('=', StringComparison.Ordinal);
            return eq < 0 ? (ManagedLabel, "") : (ManagedLabel[..eq], ManagedLabel[(eq + 1)..]);
        }
    }

    /// <summary>The namespaces operated, the default first: only the default when none are listed.</summary>
    public IReadOnlyList<string> NamespacesWith(string defaultNamespace) =>
        [defaultNamespace, .. Namespaces.OfType<string>().Where(n => n != defaultNamespace).Distinct(StringComparer.Ordinal)];

    public IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            yield return $"Kubernetes:Mode must be Auto, Local or Kubernetes (got {Mode}).";
        }

        if (!string.IsNullOrWhiteSpace(KubeconfigPath) && !File.Exists(KubeconfigPath))
        {
            yield return $"Kubernetes:KubeconfigPath {KubeconfigPath} does not exist.";
        }

        if (!string.IsNullOrEmpty(Namespace) && !IsNamespaceName(Namespace))
        {
            yield return $"Kubernetes:Namespace \"{Namespace}\" is not a valid namespace name (DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit).";
        }

        foreach (var problem in ValidateNamespaces())
        {
            yield return problem;
        }

        if (string.IsNullOrEmpty(WorkersDeployment) || WorkersDeployment.Length > 253 || !Dns1123Subdomain().IsMatch(WorkersDeployment))
        {
            yield return $"Kubernetes:WorkersDeployment \"{WorkersDeployment}\" is not a valid Deployment name.";
        }

        var (key, value) = ManagedLabelPair;
        if (!ManagedLabel.Contains('=', StringComparison.Ordinal) || !LabelKey().IsMatch(key) || value.Length > 63 || !LabelValue().IsMatch(value))
        {
            yield return $"Kubernetes:ManagedLabel must be key=value with a valid label key and value (got \"{ManagedLabel}\").";
        }

        if (string.IsNullOrWhiteSpace(WorkerImage))
        {
            yield return "Kubernetes:WorkerImage must name an image.";
        }

        if (string.IsNullOrWhiteSpace(RedisHost))
        {
            yield return "Kubernetes:RedisHost must name the Redis host the pods use.";
        }

        if (RedisPort is < 1 or > 65535)
        {
            yield return $"Kubernetes:RedisPort must be from 1 to 65535 (got {RedisPort}).";
        }

        if (MetricsInterval < TimeSpan.FromMilliseconds(100) || MetricsInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"Kubernetes:MetricsInterval must be from 0.1 s to 10 minutes (got {MetricsInterval}).";
        }

        if (WatchTimeout < TimeSpan.FromSeconds(1) || WatchTimeout > TimeSpan.FromHours(1))
        {
            yield return $"Kubernetes:WatchTimeout must be from 1 s to 1 hour (got {WatchTimeout}): a watch needs a finite timeout.";
        }

        if (JobDeletionTimeout < TimeSpan.FromSeconds(1) || JobDeletionTimeout > TimeSpan.FromMinutes(30))
        {
            yield return $"Kubernetes:JobDeletionTimeout must be from 1 s to 30 minutes (got {JobDeletionTimeout}).";
        }

        if (MaxReplicas is < 1 or > 10_000)
        {
            yield return $"Kubernetes:MaxReplicas must be from 1 to 10,000 (got {MaxReplicas}).";
        }

        if (string.IsNullOrWhiteSpace(QueueMetricName))
        {
            yield return "Kubernetes:QueueMetricName must name a metric.";
        }
    }

    private IEnumerable<string> ValidateNamespaces()
    {
        for (int i = 0; i < Namespaces.Count; i++)
        {
            if (string.IsNullOrEmpty(Namespaces[i]))
            {
                yield return $"Kubernetes:Namespaces:{i} is empty: name a namespace, or remove the entry.";
            }
            else if (!IsNamespaceName(Namespaces[i]!))
            {
                yield return $"Kubernetes:Namespaces:{i} \"{Namespaces[i]}\" is not a valid namespace name (DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit).";
            }
        }

        foreach (var twice in Namespaces.Where(n => !string.IsNullOrEmpty(n)).GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            yield return $"Kubernetes:Namespaces lists \"{twice.Key}\" {twice.Count()} times: list each namespace once.";
        }

        if (Namespaces.Count > MaxNamespaces)
        {
            yield return $"Kubernetes:Namespaces lists {Namespaces.Count} namespaces; at most {MaxNamespaces} are operated at once (each one keeps six watches open, seven with KEDA).";
        }

        if (Namespaces.Count > 0 && !string.IsNullOrEmpty(Namespace) && !Namespaces.Contains(Namespace, StringComparer.Ordinal))
        {
            yield return $"Kubernetes:Namespace \"{Namespace}\" is not one of Kubernetes:Namespaces ({string.Join(", ", Namespaces)}): list it there too, or leave Kubernetes:Namespace empty to make the first listed the default.";
        }
    }

    private static bool IsNamespaceName(string name) => name.Length <= 63 && Dns1123Label().IsMatch(name);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\z")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValue();
}
