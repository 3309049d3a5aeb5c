using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
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
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Prometheus;

namespace PiOps.Web.Extensions;

/// <summary>The dashboard's composition, so Program.cs stays a few lines.</summary>
public static class PiOpsServices
{
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
        services.AddOptions<RedisSettings>().BindConfiguration(RedisSettings.Section)
            .Configure<IConfiguration>(MapBookVariables).ValidateOnStart();

        // Singletons own the shared live state; components only render it.
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<QueueMonitor>();
        services.AddSingleton<IQueueState>(sp => sp.GetRequiredService<QueueMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<QueueMonitor>());
        services.AddSingleton<IQueueOperations, QueueOperations>();
        services.AddHostedService<QueueMetrics>();

        // Workloads: the local runtime runs the workers as processes unless it is turned off.
        if (builder.Configuration.GetValue(LocalRuntimeOptions.Section + ":Enabled", true))
        {
            services.AddSingleton<LocalRuntime>();
            services.AddSingleton<IWorkloadRuntime>(sp => sp.GetRequiredService<LocalRuntime>());
            services.AddHostedService(sp => sp.GetRequiredService<LocalRuntime>());
        }
        else
        {
            services.AddSingleton<IWorkloadRuntime, NoWorkloadRuntime>();
        }
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

        app.UseMiddleware<LoopbackOnlyMiddleware>();
        app.UseStatusCodePages();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapQueueApi();
        app.MapHub<QueueHub>(QueueHub.Path);
        app.MapOpenApi();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapMetrics("/metrics");
        return app;
    }
}
