using Microsoft.Extensions.Options;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>The workloads on the Kubernetes API: the connection, and a cache and a runtime per namespace operated.</summary>
public static class KubernetesServices
{
    public static WebApplicationBuilder AddKubernetesWorkloads(this WebApplicationBuilder builder, string backendKey, bool impersonate)
    {
        var services = builder.Services;
        // Made when the namespaces start, at start-up: a kubeconfig that cannot be used stops the start there with its
        // sentence, rather than a dashboard that shows nothing.
        services.AddSingleton(sp => KubernetesConnection.Connect(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value));
        services.AddSingleton(new Impersonation(impersonate));
        services.AddSingleton<k8s.IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesTarget>().Config));
        // A cache and a runtime per namespace operated; the default namespace's are the ones injected directly.
        services.AddSingleton<KubernetesNamespaces>();
        services.AddHostedService(sp => sp.GetRequiredService<KubernetesNamespaces>());
        services.AddSingleton<IWorkloadBackends>(sp => sp.GetRequiredService<KubernetesNamespaces>());
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesNamespaces>().Default.Cache);
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesNamespaces>().Default.Runtime);
        services.AddKeyedSingleton<IWorkloadRuntime>(backendKey, (sp, _) => sp.GetRequiredService<KubernetesNamespaces>().Default.Actions);
        services.AddSingleton<Logs.IPodLogSource>(sp => sp.GetRequiredService<KubernetesNamespaces>());
        return builder;
    }
}
