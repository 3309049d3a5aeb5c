using System.Text.Json;
using System.Text.Json.Serialization;

namespace PiOps.Shared.Queue;

/// <summary>The JSON envelope PiOps producers write by default.</summary>
/// <param name="TraceParent">
/// The W3C trace context of the producer's span, when tracing was on: every attempt of the task joins that trace.
/// </param>
public sealed record TaskEnvelope(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("iterations")] long Iterations,
    [property: JsonPropertyName("enqueuedAt")] DateTimeOffset? EnqueuedAt,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("traceparent")] string? TraceParent = null);

/// <summary>One finished task, pushed to the results list and published on the completions channel.</summary>
public sealed record TaskResult(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("iterations")] long Iterations,
    [property: JsonPropertyName("pi")] string Pi,
    [property: JsonPropertyName("durationMs")] double DurationMs,
    [property: JsonPropertyName("worker")] string Worker,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("enqueuedAt")] DateTimeOffset? EnqueuedAt,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("finishedAt")] DateTimeOffset FinishedAt);

/// <summary>An entry that will not be run, kept whole with why, so it can be fixed and retried.</summary>
public sealed record DeadLetter(
    [property: JsonPropertyName("entry")] string Entry,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("taskId")] string? TaskId,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("worker")] string? Worker,
    [property: JsonPropertyName("at")] DateTimeOffset At);

public enum TaskState
{
    Queued,
    Processing,
    Done,
    Dead,
}

/// <summary>What a worker says about itself every few seconds, under a key that expires.</summary>
public sealed record WorkerHeartbeat(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("lastSeen")] DateTimeOffset LastSeen,
    [property: JsonPropertyName("currentTask")] CurrentTask? CurrentTask,
    [property: JsonPropertyName("processed")] long Processed,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("protocol")] int? Protocol = null)
{
    /// <summary>The protocol version the worker speaks; a heartbeat without one is of a version before 2.</summary>
    [JsonIgnore]
    public int Speaks => Protocol ?? 1;

    /// <summary>A heartbeat as its worker wrote it; null for none, or for one that is not a heartbeat's JSON.</summary>
    public static WorkerHeartbeat? Read(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return QueueJson.Deserialize<WorkerHeartbeat>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

public sealed record CurrentTask(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("iterations")] long Iterations,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("done")] long Done)
{
    /// <summary>
    /// Tasks of at most this many iterations (the book's sizes: its add_tasks.py makes 1,000,000 to 10,000,000, a few
    /// milliseconds each) run on the worker's loop thread, without progress reports or a 'processing' status (stale
    /// before anyone read them), in round trips shared with others. Handing such a task to the worker's compute thread
    /// and back, alone in its round trip, cost more CPU than computing it, in wake-ups of idle threads.
    /// </summary>
    public const long SmallTask = 10_000_000;

    [JsonIgnore]
    public double Progress => Iterations == 0 ? 1 : (double)Done / Iterations;

    /// <summary>Whether the worker reports this task's progress (a long one); a small one is done before a page could show it.</summary>
    [JsonIgnore]
    public bool ReportsProgress => Iterations > SmallTask;
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TaskEnvelope))]
[JsonSerializable(typeof(TaskResult))]
[JsonSerializable(typeof(DeadLetter))]
[JsonSerializable(typeof(WorkerHeartbeat))]
public sealed partial class QueueJson : JsonSerializerContext
{
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Info<T>.Value);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize(json, Info<T>.Value);

    // Looked up once per type, not per call: the lookup by Type was a few per cent of a worker's CPU on trivial tasks.
    private static class Info<T>
    {
        public static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> Value =
            (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Default.GetTypeInfo(typeof(T))!;
    }
}
