using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>The workloads as PiOps.Worker processes on this machine.</summary>
public static class LocalServices
{
    public static WebApplicationBuilder AddLocalWorkloads(this WebApplicationBuilder builder, string backendKey)
    {
        var services = builder.Services;
        services.AddSingleton<LocalRuntime>();
        services.AddKeyedSingleton<IWorkloadRuntime>(backendKey, (sp, _) => ActivatorUtilities.CreateInstance<WorkloadActions>(sp, sp.GetRequiredService<LocalRuntime>()));
        services.AddSingleton<Logs.IPodLogSource>(sp => sp.GetRequiredService<LocalRuntime>());
        services.AddHostedService(sp => sp.GetRequiredService<LocalRuntime>());
        return builder;
    }
}
