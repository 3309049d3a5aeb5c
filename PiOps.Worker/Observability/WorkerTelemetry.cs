using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PiOps.Shared.Telemetry;
using PiOps.Worker.Configuration;
using PiOps.Worker.Processing;

namespace PiOps.Worker.Observability;

/// <summary>
/// OpenTelemetry in the worker (docs/observability.md): traces, metrics and logs over OTLP when the standard
/// OTEL_EXPORTER_OTLP_* variables name an endpoint, Prometheus metrics on METRICS_PORT when set; nothing otherwise,
/// so the book's worker costs what it did: no listener, no Activity, no measurement.
/// </summary>
public static class WorkerTelemetry
{
    /// <summary>The logger category of the book's lines sent as OTLP log records; never written to the console twice.</summary>
    public const string BookCategory = "PiOps.Book";

    public static ResourceBuilder Resource(IConfiguration c, string serviceName, string? instanceId) =>
        ResourceBuilder.CreateDefault().AddService(c["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : serviceName,
            serviceInstanceId: instanceId, autoGenerateServiceInstanceId: instanceId is null);

    /// <summary>Adds the SDK to the worker's host when OTLP or the metrics port is configured; returns whether it did.</summary>
    public static bool AddTo(HostApplicationBuilder builder, WorkerOptions o, WorkerState state)
    {
        var c = builder.Configuration;
        bool otlp = QueueTelemetry.OtlpConfigured(c);
        if (!otlp && o.MetricsPort is null)
        {
            return false;
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(c["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "piops-worker",
                serviceInstanceId: state.Id))
            .WithMetrics(m =>
            {
                m.AddMeter(QueueTelemetry.Name).AddRuntimeInstrumentation();
                if (o.MetricsPort is not null)
                {
                    m.AddPrometheusExporter();
                }
            });
        RegisterGauges(state, o.Queue.QueueName);
        if (o.MetricsPort is { } port)
        {
            builder.Services.AddHostedService(sp => new MetricsEndpoint(sp.GetRequiredService<MeterProvider>(), o.MetricsHost, port));
        }

        if (otlp)
        {
            AddBatchDefaults(c);
            otel.WithTracing(t => t.AddSource(QueueTelemetry.Name))
                .WithLogging(_ => { }, l =>
                {
                    l.IncludeFormattedMessage = true;
                    l.IncludeScopes = false;
                })
                .UseOtlpExporter();
            // The book's lines go to stdout exactly as before (BookConsole); their OTLP records carry the trace and span.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(BookCategory, LogLevel.None);
        }

        return true;
    }

    /// <summary>
    /// The batch sizes a worker exports with when the standard variables do not set them. A worker at full speed makes
    /// four spans and two log records a task, thousands of tasks a second: with the SDK's batches of 512 it sends an
    /// export request every few dozen milliseconds, and each one wakes the exporter's thread beside the pi loop.
    /// Batches of 2,048 (queues of 8,192) send about a third as many requests for the same records, and took the
    /// throughput cost of tracing from 2.2-3.5 % to 0.5-1.7 % (bench/README.md, "tracing").
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> BatchDefaults = new Dictionary<string, string>
    {
        ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "2048",
        ["OTEL_BSP_MAX_QUEUE_SIZE"] = "8192",
        ["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = "2048",
        ["OTEL_BLRP_MAX_QUEUE_SIZE"] = "8192",
    };

    /// <summary>Adds <see cref="BatchDefaults"/> for each variable the environment leaves unset; a set one wins.</summary>
    private static void AddBatchDefaults(IConfigurationManager c)
    {
        var missing = BatchDefaults.Where(kv => string.IsNullOrWhiteSpace(c[kv.Key]))
            .Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)).ToList();
        if (missing.Count > 0)
        {
            c.AddInMemoryCollection(missing);
        }
    }

    /// <summary>Per worker: the entries it holds and its last pi rate. Read only when a reader collects.</summary>
    private static void RegisterGauges(WorkerState state, string queue)
    {
        var tags = QueueTelemetry.QueueTags(queue).ToArray();
        QueueTelemetry.Meter.CreateObservableGauge("piops.worker.in_flight", () => new Measurement<long>(state.Held, tags),
            "{task}", "Entries in this worker's in-flight list: running, or taken and waiting their turn.");
        QueueTelemetry.Meter.CreateObservableGauge("piops.pi.rate", () => new Measurement<double>(state.IterationsPerSecond, tags),
            "{iteration}/s", "Leibniz terms per second of the last task that ran for at least a millisecond.");
    }

    /// <summary>
    /// A tracer for a short command (add-tasks, the CronJob's addwork Job): the producer's span and nothing else.
    /// Null when OTLP is not configured. Disposing it flushes the spans.
    /// </summary>
    public static TracerProvider? CommandTracer(IConfiguration c) =>
        QueueTelemetry.OtlpConfigured(c)
            ? Sdk.CreateTracerProviderBuilder().SetResourceBuilder(Resource(c, "piops-worker", null))
                .AddSource(QueueTelemetry.Name).AddOtlpExporter().Build()
            : null;
}
