using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using PiOps.Web.Api;
using PiOps.Web.Audit;
using PiOps.Web.Components;
using PiOps.Web.HighAvailability;
using PiOps.Web.Hubs;
using PiOps.Web.Logs;
using PiOps.Web.Queue;
using PiOps.Web.Security;
using Prometheus;

namespace PiOps.Web.Extensions;

/// <summary>
/// The dashboard's composition, so Program.cs stays a few lines: one room per capability, each registered beside its
/// code (every configuration section through <see cref="Configuration.ValidatedOptions"/>), and the request pipeline.
/// </summary>
public static class PiOpsServices
{
    public static WebApplicationBuilder AddPiOps(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // The hubs' log streams, one per hub invocation (its namespace selection is that invocation's).
        builder.Services.AddScoped<HubLogStreams>();
        return builder
            .AddHighAvailability()
            .AddQueue()
            .AddPiOpsTelemetry()
            .AddWorkloads()
            .AddLogs()
            .AddAudit()
            .AddSecurity()
            .AddDashboardUi();
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

        app.UseSecurityHeaders();
        app.UseStatusCodePages();
        app.UseSecurity();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        // frame-ancestors is in our own Content-Security-Policy ('none'); no second header.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        app.MapQueueApi();
        app.MapHub<QueueHub>(QueueHub.Path);
        app.MapHub<LogsHub>(LogsHub.Path);
        app.MapSecurity();
        app.MapOpenApi();
        // Probes and metrics stay open: kubelet and Prometheus do not sign in, and they show no secrets.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapMetrics("/metrics").AllowAnonymous();
        return app;
    }
}
