using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// A task's last known state, kept in a Redis hash under its id (so each step writes only its own fields) until it
/// expires; under protocol 2 the result of a task of a producer's batch is in the batch's results hash instead
/// (<see cref="QueueKeys.BatchResults"/>). Queued is written by PiOps producers and recoverers, processing/done/dead by
/// workers.
/// </summary>
public sealed record TaskStatusRecord(
    string Id,
    TaskState State,
    long? Iterations,
    int Attempt,
    string? Worker,
    DateTimeOffset? EnqueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Pi,
    double? DurationMs,
    string? Reason,
    DateTimeOffset UpdatedAt)
{
    public static HashEntry[] Queued(TaskEnvelope task, DateTimeOffset now) =>
    [
        new("state", "queued"),
        new("iterations", task.Iterations),
        new("attempt", task.Attempt),
        new("enqueuedAt", Time(task.EnqueuedAt ?? now)),
        new("updatedAt", Time(now)),
    ];

    // Queued tasks are recorded per batch, not per task: the task's own hash carries its enqueue time from the
    // envelope, so a finished task still says when it was enqueued.
    public static HashEntry[] Processing(TaskEnvelope task, string worker, DateTimeOffset now) =>
    [
        new("state", "processing"),
        new("iterations", task.Iterations),
        new("attempt", task.Attempt),
        new("worker", worker),
        new("startedAt", Time(now)),
        new("updatedAt", Time(now)),
        new(AttemptField(task.Attempt, "worker"), worker),
        new(AttemptField(task.Attempt, "startedAt"), Time(now)),
        .. EnqueuedAtField(task.EnqueuedAt),
        .. TraceIdField(task.TraceParent),
    ];

    // The trace the envelope carried (W3C traceparent 00-{trace id}-{span id}-{flags}), for a link to the tracing UI.
    private static HashEntry[] TraceIdField(string? traceParent) =>
        traceParent is { Length: 55 } tp && tp[2] == '-' && tp[35] == '-' ? [new("traceId", tp[3..35])] : [];

    /// <summary>The field of a done record that holds the result's JSON.</summary>
    public const string ResultField = "result";

    private static HashEntry[] EnqueuedAtField(DateTimeOffset? at) => at is { } t ? [new("enqueuedAt", Time(t))] : [];

    public static HashEntry[] Dead(string reason, int attempts, string? worker, DateTimeOffset now) =>
    [
        new("state", "dead"),
        new("reason", reason),
        new("attempt", attempts),
        new("worker", worker ?? ""),
        new("finishedAt", Time(now)),
        new("updatedAt", Time(now)),
        new(AttemptField(attempts, "finishedAt"), Time(now)),
        new(AttemptField(attempts, "outcome"), "dead-lettered: " + reason),
    ];

    // Each attempt keeps its own fields (a1.worker, a1.startedAt, …) in the same hash and the same write: a task's page
    // shows its whole life, every attempt with its worker, at no extra round trip.
    private static string AttemptField(int n, string field) => $"a{n}.{field}";

    /// <summary>
    /// A task's record: its own hash, and (protocol 2) its result in its batch's results hash, which makes it done; null
    /// when it has neither. One round trip.
    /// </summary>
    public static async Task<TaskStatusRecord?> ReadAsync(IDatabaseAsync db, QueueKeys keys, string id)
    {
        var own = db.HashGetAllAsync(keys.TaskStatus(id));
        var result = keys.BatchResultsOf(id) is { } batch ? db.HashGetAsync(batch, id) : Task.FromResult(RedisValue.Null);
        await Task.WhenAll(own, result);
        return FromRecords(id, own.Result, result.Result);
    }

    /// <summary>
    /// A task's record from its own hash and the result its batch's results hash holds for it (null: none). The own hash
    /// keeps its history (attempts, fence marks) either way; a result in the batch's hash makes it done, unless the own
    /// hash says done itself (written under protocol 1).
    /// </summary>
    private static TaskStatusRecord? FromRecords(string id, HashEntry[] own, RedisValue batchResult)
    {
        if (batchResult.IsNull || own.Any(e => e.Name == "state" && e.Value == "done"))
        {
            return FromHash(id, own);
        }

        return FromHash(id, [.. own.Where(e => e.Name != "state" && e.Name != ResultField), new("state", "done"), new(ResultField, batchResult)]);
    }

    public static TaskStatusRecord? FromHash(string id, HashEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        var d = entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        var state = Enum.TryParse<TaskState>(d.GetValueOrDefault("state"), ignoreCase: true, out var s) ? s : TaskState.Queued;
        // A done record keeps its result whole; records written before it did (and the other states) keep fields.
        var result = state == TaskState.Done ? ReadResult(d.GetValueOrDefault(ResultField)) : null;
        return new TaskStatusRecord(
            id,
            state,
            result?.Iterations ?? (long.TryParse(d.GetValueOrDefault("iterations"), CultureInfo.InvariantCulture, out var n) ? n : null),
            result?.Attempt ?? (int.TryParse(d.GetValueOrDefault("attempt"), CultureInfo.InvariantCulture, out var a) ? a : 1),
            result?.Worker ?? NullIfEmpty(d.GetValueOrDefault("worker")),
            result?.EnqueuedAt ?? ParseTime(d.GetValueOrDefault("enqueuedAt")),
            result?.StartedAt ?? ParseTime(d.GetValueOrDefault("startedAt")),
            result?.FinishedAt ?? ParseTime(d.GetValueOrDefault("finishedAt")),
            result?.Pi ?? NullIfEmpty(d.GetValueOrDefault("pi")),
            result?.DurationMs ?? (double.TryParse(d.GetValueOrDefault("durationMs"), CultureInfo.InvariantCulture, out var ms) ? ms : null),
            NullIfEmpty(d.GetValueOrDefault("reason")),
            result?.FinishedAt ?? ParseTime(d.GetValueOrDefault("updatedAt")) ?? DateTimeOffset.MinValue)
        {
            Attempts = ReadAttempts(d, result),
            TraceId = NullIfEmpty(d.GetValueOrDefault("traceId")),
        };
    }

    private static TaskResult? ReadResult(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return QueueJson.Deserialize<TaskResult>(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every attempt the hash records, in order; one without an outcome that a later attempt followed was recovered.
    /// The attempt that stored <paramref name="result"/> is read from it.
    /// </summary>
    private static List<TaskAttempt> ReadAttempts(Dictionary<string, string> d, TaskResult? result)
    {
        var numbers = d.Keys.Select(k => k.StartsWith('a') && k.IndexOf('.') is > 1 and var dot
                && int.TryParse(k.AsSpan(1, dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0)
            .Where(n => n > 0).Append(result?.Attempt ?? 0).Where(n => n > 0).Distinct().Order().ToList();
        var attempts = new List<TaskAttempt>(numbers.Count);
        foreach (int n in numbers)
        {
            if (result is not null && n == result.Attempt)
            {
                attempts.Add(new TaskAttempt(n, result.Worker, result.StartedAt, result.FinishedAt, "done"));
                continue;
            }

            string? outcome = NullIfEmpty(d.GetValueOrDefault(AttemptField(n, "outcome")));
            outcome ??= n < numbers[^1] ? "its worker was lost: the task was recovered and ran again" : null;
            attempts.Add(new TaskAttempt(n, NullIfEmpty(d.GetValueOrDefault(AttemptField(n, "worker"))),
                ParseTime(d.GetValueOrDefault(AttemptField(n, "startedAt"))), ParseTime(d.GetValueOrDefault(AttemptField(n, "finishedAt"))), outcome));
        }

        return attempts;
    }

    /// <summary>
    /// A task no worker has taken yet, known from its batch's record. If the queue was purged after the batch was
    /// enqueued, the task may be gone, and the reason says so.
    /// </summary>
    public static TaskStatusRecord? FromBatch(string id, HashEntry[] batch, DateTimeOffset? lastPurge)
    {
        if (batch.Length == 0)
        {
            return null;
        }

        var d = batch.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        var enqueuedAt = ParseTime(d.GetValueOrDefault("enqueuedAt"));
        string? reason = lastPurge is { } p && enqueuedAt is { } e && p >= e
            ? $"the queue was purged at {Time(p)}, after this task was enqueued: it may have been removed"
            : null;
        return new TaskStatusRecord(id, TaskState.Queued,
            long.TryParse(d.GetValueOrDefault("iterations"), CultureInfo.InvariantCulture, out var n) ? n : null,
            1, null, enqueuedAt, null, null, null, null, reason, enqueuedAt ?? DateTimeOffset.MinValue);
    }

    /// <summary>Each attempt of the task, oldest first, as its hash records them.</summary>
    public IReadOnlyList<TaskAttempt> Attempts { get; init; } = [];

    /// <summary>The W3C trace id the task's envelope carried (set by the producer's span); null for plain entries.</summary>
    public string? TraceId { get; init; }

    internal static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? s) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>One attempt at a task: the worker that took it, when, and how it ended (null while it runs).</summary>
public sealed record TaskAttempt(int Number, string? Worker, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Outcome);
