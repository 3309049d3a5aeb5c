using Microsoft.Extensions.DependencyInjection.Extensions;
using PiOps.Web.Configuration;
using PiOps.Web.Kubernetes;
using PiOps.Web.Local;
using PiOps.Web.Workloads;

namespace PiOps.Web.Extensions;

/// <summary>
/// Which runtime operates the workloads: on a cluster (in a pod, or with a kubeconfig) the Kubernetes API; else the
/// local runtime runs the workers as processes unless it is turned off; else none. The composition root chooses, so
/// neither runtime knows of the other.
/// </summary>
public static class WorkloadServices
{
    /// <summary>The key of the workload actions over the runtime itself; <see cref="IWorkloadRuntime"/> is their guarded, audited face.</summary>
    public const string WorkloadBackend = "backend";

    public static WebApplicationBuilder AddWorkloads(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<LocalRuntimeOptions>(LocalRuntimeOptions.Section, o => o.Validate());
        services.AddValidatedOptions<KubernetesOptions>(KubernetesOptions.Section, o => o.Validate());

        var kubernetes = builder.Configuration.GetSection(KubernetesOptions.Section).Get<KubernetesOptions>() ?? new KubernetesOptions();
        if (KubernetesConnection.UsesKubernetes(kubernetes))
        {
            // Auth:Impersonate: the Kubernetes runtime makes an operator's calls as that operator.
            builder.AddKubernetesWorkloads(WorkloadBackend, builder.Configuration.GetValue(Security.AuthOptions.Section + ":Impersonate", false));
        }
        else if (builder.Configuration.GetValue(LocalRuntimeOptions.Section + ":Enabled", true))
        {
            builder.AddLocalWorkloads(WorkloadBackend);
        }
        else
        {
            services.AddKeyedSingleton<IWorkloadRuntime, NoWorkloadRuntime>(WorkloadBackend);
            services.AddSingleton<Logs.IPodLogSource, Logs.NoPodLogSource>();
        }

        // Without a cluster there is one backend and nothing to choose (tests and benchmarks may replace the keyed one).
        services.TryAddSingleton<IWorkloadBackends>(sp => new SingleWorkloadBackend(sp.GetRequiredKeyedService<IWorkloadRuntime>(WorkloadBackend)));
        services.AddScoped<WorkloadSelection>();
        return builder;
    }
}
