using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;

namespace PiOps.Web.Kubernetes;

/// <summary>The cluster the dashboard talks to: the client configuration, and the names the UI shows.</summary>
/// <param name="Cluster">The kubeconfig's cluster name, or "in-cluster".</param>
/// <param name="Context">The kubeconfig context; null in a pod.</param>
public sealed record KubernetesTarget(KubernetesClientConfiguration Config, string Cluster, string? Context, string Namespace)
{
    public string Description => Context is null
        ? $"Kubernetes in-cluster ({Config.Host}), namespace {Namespace}"
        : $"Kubernetes cluster {Cluster}, context {Context}, namespace {Namespace}";
}

/// <summary>Chooses between the cluster and the local runtime, and finds the cluster's configuration.</summary>
public static class KubernetesConnection
{
    /// <summary>
    /// Whether workloads run on Kubernetes. Auto: in a pod, yes; else yes when a kubeconfig exists (an explicit path,
    /// KUBECONFIG, or ~/.kube/config); else the local runtime, so a machine without a cluster gets the embedded default.
    /// </summary>
    public static bool UsesKubernetes(KubernetesOptions o, Func<string, string?>? environment = null, string? home = null, Func<bool>? inCluster = null) =>
        o.Mode switch
        {
            KubernetesMode.Kubernetes => true,
            KubernetesMode.Local => false,
            _ => (inCluster ?? KubernetesClientConfiguration.IsInCluster)() || KubeconfigFiles(o, environment, home).Count > 0,
        };

    /// <summary>The kubeconfig files that exist, in the order kubectl reads them.</summary>
    public static IReadOnlyList<string> KubeconfigFiles(KubernetesOptions o, Func<string, string?>? environment = null, string? home = null)
    {
        if (!string.IsNullOrWhiteSpace(o.KubeconfigPath))
        {
            return File.Exists(o.KubeconfigPath) ? [o.KubeconfigPath] : [];
        }

        environment ??= Environment.GetEnvironmentVariable;
        if (environment("KUBECONFIG") is { Length: > 0 } list)
        {
            return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).ToList();
        }

        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string defaultFile = Path.Combine(home, ".kube", "config");
        return string.IsNullOrEmpty(home) || !File.Exists(defaultFile) ? [] : [defaultFile];
    }

    /// <summary>Reads the configuration; throws <see cref="InvalidOperationException"/> with a sentence when it cannot.</summary>
    public static KubernetesTarget Connect(KubernetesOptions o)
    {
        var files = KubeconfigFiles(o);
        if (files.Count == 0 && string.IsNullOrWhiteSpace(o.KubeconfigPath) && KubernetesClientConfiguration.IsInCluster())
        {
            var inCluster = KubernetesClientConfiguration.InClusterConfig();
            return new KubernetesTarget(inCluster, "in-cluster", null, Namespace(o, inCluster.Namespace));
        }

        if (files.Count == 0)
        {
            throw new InvalidOperationException("Kubernetes:Mode is Kubernetes but there is no kubeconfig (Kubernetes:KubeconfigPath, KUBECONFIG or ~/.kube/config) and this is not a pod in a cluster.");
        }

        try
        {
            // The first file only: the client does not offer merging several (KUBECONFIG=a:b) publicly.
            K8SConfiguration kubeconfig = KubernetesClientConfiguration.LoadKubeConfig(files[0], useRelativePaths: true);
            string? contextName = string.IsNullOrWhiteSpace(o.Context) ? kubeconfig.CurrentContext : o.Context;
            var context = kubeconfig.Contexts?.FirstOrDefault(c => c.Name == contextName)
                ?? throw new InvalidOperationException($"The kubeconfig ({string.Join(", ", files)}) has no context named \"{contextName}\"; set Kubernetes:Context to one of: {string.Join(", ", kubeconfig.Contexts?.Select(c => c.Name) ?? [])}.");
            var config = KubernetesClientConfiguration.BuildConfigFromConfigObject(kubeconfig, contextName);
            return new KubernetesTarget(config, context.ContextDetails?.Cluster ?? config.Host, contextName, Namespace(o, context.ContextDetails?.Namespace));
        }
        catch (Exception ex) when (ex is KubeConfigException or IOException or YamlDotNet.Core.YamlException or ArgumentException)
        {
            throw new InvalidOperationException($"The kubeconfig ({string.Join(", ", files)}) cannot be used: {ex.Message}", ex);
        }
    }

    // With a list of namespaces and none named the default, the first listed is the default: the list is explicit, and
    // the pod's own namespace may not be in it (where the Role would not allow anything).
    private static string Namespace(KubernetesOptions o, string? fromCluster) =>
        !string.IsNullOrWhiteSpace(o.Namespace) ? o.Namespace
        : o.Namespaces.FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)) is { } first ? first
        : !string.IsNullOrWhiteSpace(fromCluster) ? fromCluster : "default";
}
