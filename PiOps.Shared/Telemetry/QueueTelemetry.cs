using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;

namespace PiOps.Shared.Telemetry;

/// <summary>
/// PiOps's spans and instruments, shared by the producers, the workers and the recoverers (docs/observability.md).
/// Nothing here costs more than a null check while no listener is attached: OpenTelemetry is off unless
/// OTEL_EXPORTER_OTLP_ENDPOINT (or a worker's METRICS_PORT) turns it on, and then the SDK is the listener.
/// Names follow OpenTelemetry's messaging conventions where they exist; PiOps's own start with "piops.".
/// </summary>
public static class QueueTelemetry
{
    /// <summary>The name of the ActivitySource and of the Meter.</summary>
    public const string Name = "PiOps";

    /// <summary>messaging.system: Redis lists are not in the conventions' list of systems, so the plain name.</summary>
    public const string MessagingSystem = "redis";

    /// <summary>
    /// Whether OTLP export is on, by the SDK's own variables: any of them names an endpoint and OTEL_SDK_DISABLED is not
    /// true. The dashboard and the worker read it the same way; off, neither registers the SDK.
    /// </summary>
    public static bool OtlpConfigured(IConfiguration c) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" }.Any(k => !string.IsNullOrWhiteSpace(c[k]))
        && !string.Equals(c["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase);

    public static readonly ActivitySource Source = new(Name, typeof(QueueTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(QueueTelemetry).Assembly.GetName().Version?.ToString());

    // The messaging conventions' recommended buckets for durations in seconds.
    private static readonly InstrumentAdvice<double> DurationBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120],
    };

    /// <summary>Time from taking a task to storing its result, per attempt.</summary>
    public static readonly Histogram<double> ProcessDuration = Meter.CreateHistogram("messaging.process.duration", "s",
        "Duration of processing a task: from taking it to storing its result.", advice: DurationBuckets);

    /// <summary>Round trips to the queue: send (enqueue), receive (take), settle (store).</summary>
    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram("messaging.client.operation.duration", "s",
        "Duration of a round trip to the queue.", advice: DurationBuckets);

    public static readonly Counter<long> SentMessages = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}",
        "Tasks enqueued by this process.");

    public static readonly Counter<long> ConsumedMessages = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}",
        "Entries taken from the queue by this process, runnable or not.");

    public static readonly Counter<long> TasksDone = Meter.CreateCounter<long>("piops.tasks.done", "{task}",
        "Tasks whose result this worker stored.");

    public static readonly Counter<long> TasksFenced = Meter.CreateCounter<long>("piops.tasks.fenced", "{task}",
        "Results this worker finished but Redis refused: the task was recovered for another attempt while this worker was taken for dead.");

    public static readonly Counter<long> TasksFailed = Meter.CreateCounter<long>("piops.tasks.failed", "{task}",
        "Failed attempts: entries that cannot be run, and tasks whose worker stopped during them (counted by the recoverer).");

    public static readonly Counter<long> TasksRetried = Meter.CreateCounter<long>("piops.tasks.retried", "{task}",
        "Tasks of a stopped worker put back at the head of the queue for another attempt.");

    public static readonly Counter<long> TasksDeadLettered = Meter.CreateCounter<long>("piops.tasks.dead_lettered", "{task}",
        "Entries moved to the dead letters: unrunnable, or out of attempts.");

    public static readonly Counter<long> PiIterations = Meter.CreateCounter<long>("piops.pi.iterations", "{iteration}",
        "Terms of the Leibniz series computed.");

    /// <summary>The queue's attributes on every measurement: which queue, on which system.</summary>
    public static TagList QueueTags(string queue) => new()
    {
        { "messaging.system", MessagingSystem },
        { "messaging.destination.name", queue },
    };

    /// <summary>
    /// The producer's span of an enqueue. Its context is what the envelopes carry, so each task's trace starts here
    /// (under the HTTP request, the Enqueue page's action or the addwork Job that caused it).
    /// </summary>
    public static Activity? StartSend(string queue, int count)
    {
        var activity = Source.StartActivity("send " + queue, ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", MessagingSystem);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "send");
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.batch.message_count", count);
        }

        return activity;
    }

    /// <summary>
    /// A Redis round trip as a client span, only inside one of our traces: the samplers, heartbeats and idle pops
    /// run all the time and would otherwise each start a trace of their own.
    /// </summary>
    public static Activity? StartRedis(string operation, string? detail = null)
    {
        if (Activity.Current is null || !Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(detail is null ? operation : operation + " " + detail, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", operation);
        }

        return activity;
    }

    /// <summary>The W3C traceparent of <paramref name="activity"/>, as an envelope carries it.</summary>
    public static string? TraceParent(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;

    /// <summary>The context an envelope carries, or default when it carries none or a malformed one.</summary>
    public static ActivityContext ParentOf(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    /// <summary>Marks a span failed with the conventions' error.type.</summary>
    public static void Fail(Activity? activity, string errorType, string? description = null)
    {
        if (activity is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error, description);
        }
    }
}
