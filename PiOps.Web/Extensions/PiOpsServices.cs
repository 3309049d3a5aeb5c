using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Web.Api;
using PiOps.Web.Components;
using PiOps.Web.Configuration;
using PiOps.Web.Hubs;
using PiOps.Web.Observability;
using PiOps.Web.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Security;
using PiOps.Web.Kubernetes;
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Prometheus;

namespace PiOps.Web.Extensions;

/// <summary>The dashboard's composition, so Program.cs stays a few lines.</summary>
public static class PiOpsServices
{
    /// <summary>The key of the workload actions over the runtime itself; <see cref="IWorkloadRuntime"/> is their guarded, audited face.</summary>
    public const string WorkloadBackend = "backend";

    public static WebApplicationBuilder AddPiOps(this WebApplicationBuilder builder)
    {
        // Serve the static assets of referenced packages (MudBlazor) from the build output too, not only in Development.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PiOpsOptionsValidator>();
        services.AddSingleton<IValidateOptions<DashboardOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddSingleton<IValidateOptions<EmbeddedOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddSingleton<IValidateOptions<QueueOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddSingleton<IValidateOptions<RedisSettings>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section).ValidateOnStart();
        services.AddOptions<EmbeddedOptions>().BindConfiguration(EmbeddedOptions.Section).ValidateOnStart();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section).ValidateOnStart();
        services.AddOptions<AccessOptions>().BindConfiguration(AccessOptions.Section);
        services.AddOptions<LocalRuntimeOptions>().BindConfiguration(LocalRuntimeOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LocalRuntimeOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddOptions<KubernetesOptions>().BindConfiguration(KubernetesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KubernetesOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddOptions<RedisSettings>().BindConfiguration(RedisSettings.Section)
            .Configure<IConfiguration>(MapBookVariables).ValidateOnStart();

        // Singletons own the shared live state; components only render it.
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<QueueMonitor>();
        services.AddSingleton<IQueueState>(sp => sp.GetRequiredService<QueueMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<QueueMonitor>());
        // Pages, the API and the hub get the guarded face of the queue actions: roles checked, every change audited.
        services.AddSingleton<QueueOperations>();
        services.AddScoped<IQueueOperations, GuardedQueueOperations>();
        services.AddSingleton<EnqueueIdempotency>();
        services.AddHostedService<QueueMetrics>();

        // Workloads: on a cluster (in a pod, or with a kubeconfig) the Kubernetes API; else the local runtime runs the
        // workers as processes unless it is turned off.
        var kubernetes = builder.Configuration.GetSection(KubernetesOptions.Section).Get<KubernetesOptions>() ?? new KubernetesOptions();
        if (KubernetesConnection.UsesKubernetes(kubernetes))
        {
            services.AddSingleton(sp => KubernetesConnection.Connect(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value));
            bool impersonate = builder.Configuration.GetValue(Security.AuthOptions.Section + ":Impersonate", false);
            services.AddSingleton<k8s.IKubernetes>(sp => impersonate
                ? new k8s.Kubernetes(sp.GetRequiredService<KubernetesTarget>().Config, new ImpersonationHandler())
                : new k8s.Kubernetes(sp.GetRequiredService<KubernetesTarget>().Config));
            // A cache and a runtime per namespace operated; the default namespace's are the ones injected directly.
            services.AddSingleton<KubernetesNamespaces>();
            services.AddHostedService(sp => sp.GetRequiredService<KubernetesNamespaces>());
            services.AddSingleton<IWorkloadBackends>(sp => sp.GetRequiredService<KubernetesNamespaces>());
            services.AddSingleton(sp => sp.GetRequiredService<KubernetesNamespaces>().Default.Cache);
            services.AddSingleton(sp => sp.GetRequiredService<KubernetesNamespaces>().Default.Runtime);
            services.AddKeyedSingleton<IWorkloadRuntime>(WorkloadBackend, (sp, _) => sp.GetRequiredService<KubernetesNamespaces>().Default.Actions);
            services.AddSingleton<Logs.IPodLogSource>(sp => sp.GetRequiredService<KubernetesNamespaces>());
        }
        else if (builder.Configuration.GetValue(LocalRuntimeOptions.Section + ":Enabled", true))
        {
            services.AddSingleton<LocalRuntime>();
            services.AddKeyedSingleton<IWorkloadRuntime>(WorkloadBackend, (sp, _) => ActivatorUtilities.CreateInstance<WorkloadActions>(sp, sp.GetRequiredService<LocalRuntime>()));
            services.AddSingleton<Logs.IPodLogSource>(sp => sp.GetRequiredService<LocalRuntime>());
            services.AddHostedService(sp => sp.GetRequiredService<LocalRuntime>());
        }
        else
        {
            services.AddKeyedSingleton<IWorkloadRuntime, NoWorkloadRuntime>(WorkloadBackend);
            services.AddSingleton<Logs.IPodLogSource, Logs.NoPodLogSource>();
        }

        // Without a cluster there is one backend and nothing to choose (tests and benchmarks may replace the keyed one).
        services.TryAddSingleton<IWorkloadBackends>(sp => new SingleWorkloadBackend(sp.GetRequiredKeyedService<IWorkloadRuntime>(WorkloadBackend)));
        services.AddScoped<WorkloadSelection>();
        services.AddScoped<Components.Controls.Announcer>();
        services.AddScoped<IWorkloadRuntime>(sp => new GuardedWorkloadRuntime(sp.GetRequiredService<WorkloadSelection>(),
            sp.GetRequiredService<UserContext>(), sp.GetRequiredService<Audit.AuditLog>(), sp.GetRequiredService<TimeProvider>()));
        builder.AddPiOpsSecurity();
        services.AddOptions<Logs.LogOptions>().BindConfiguration(Logs.LogOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Logs.LogOptions>>(sp => sp.GetRequiredService<PiOpsOptionsValidator>());
        services.AddSingleton<Logs.LogTailer>();
        services.AddHostedService<StartupBanner>();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(c =>
        {
            c.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            c.SnackbarConfiguration.VisibleStateDuration = 6000;
        });
        // Enums read as words in the API and the hub ("queued", not 0).
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        return builder;
    }

    /// <summary>REDIS_HOST, REDIS_PORT and REDIS_PASSWORD, as the book's workers use them, also configure the dashboard.</summary>
    private static void MapBookVariables(RedisSettings s, IConfiguration c)
    {
        if (!string.IsNullOrWhiteSpace(c["REDIS_HOST"]))
        {
            s.Host = c["REDIS_HOST"];
        }

        if (int.TryParse(c["REDIS_PORT"], out int port))
        {
            s.Port = port;
        }

        if (!string.IsNullOrWhiteSpace(c["REDIS_PASSWORD"]))
        {
            s.Password = c["REDIS_PASSWORD"];
        }
    }

    public static WebApplication UsePiOps(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            // The API answers an unexpected error with a 500 problem; re-running a POST as the /error page (GET
            // only) turned it into a misleading 405 Method Not Allowed.
            app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseExceptionHandler());
            app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api"), ui => ui.UseExceptionHandler("/error", createScopeForErrors: true));
        }

        app.UsePiOpsSecurityHeaders();
        app.UseStatusCodePages();
        app.UsePiOpsSecurity();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        // frame-ancestors is in our own Content-Security-Policy ('none'); no second header.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        app.MapQueueApi();
        app.MapHub<QueueHub>(QueueHub.Path);
        app.MapPiOpsSecurity();
        app.MapOpenApi();
        // Probes and metrics stay open: kubelet and Prometheus do not sign in, and they show no secrets.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapMetrics("/metrics").AllowAnonymous();
        return app;
    }
}
