using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PiOps.Shared.Telemetry;
using PiOps.Web.Observability;

namespace PiOps.Web.Extensions;

/// <summary>
/// OpenTelemetry in the dashboard (docs/observability.md): traces, metrics and logs over OTLP when the standard
/// OTEL_EXPORTER_OTLP_* variables name an endpoint, nothing otherwise. Prometheus's /metrics (prometheus-net) is
/// served either way.
/// </summary>
public static class TelemetryServices
{
    public static WebApplicationBuilder AddPiOpsTelemetry(this WebApplicationBuilder builder)
    {
        // The queue's gauges are registered always; with no listener they are never read.
        builder.Services.AddHostedService<QueueInstruments>();
        var c = builder.Configuration;
        if (!QueueTelemetry.OtlpConfigured(c))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(c["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "piops-dashboard"))
            .WithTracing(t => t
                .AddSource(QueueTelemetry.Name)
                // Requests people and the API make; not the probes, scrapes, the circuit's socket or static files.
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsNoise(http.Request.Path))
                .AddHttpClientInstrumentation())
            .WithMetrics(m => m.AddMeter(QueueTelemetry.Name).AddAspNetCoreInstrumentation())
            .WithLogging(_ => { }, l =>
            {
                l.IncludeFormattedMessage = true;
                l.IncludeScopes = false;
            })
            .UseOtlpExporter();
        return builder;
    }

    private static bool IsNoise(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health") || path.StartsWithSegments("/_blazor")
        || path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") || Path.HasExtension(path.Value);
}
