using PiOps.Shared.Queue;
using PiOps.Web.Queue;

namespace PiOps.Web.Security;

/// <summary>
/// The queue actions as pages, the API and the hub get them: reads pass through; every change is refused unless the
/// user may operate, and is written to the audit trail with its outcome, whatever path it came by.
/// </summary>
public sealed class GuardedQueueOperations(QueueOperations inner, OperatorGuard guard) : IQueueOperations
{
    public QueueOptions Queue => inner.Queue;

    public int MaxBatch => inner.MaxBatch;

    public Dictionary<string, string[]> Validate(string? iterations, string? count) => inner.Validate(iterations, count);

    public Task<EnqueueOutcome> EnqueueAsync(long iterations, int count, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default) =>
        ActAsync("enqueue", Queue.QueueName, $"{count} task(s) of {iterations} iterations, {format}",
            () => inner.EnqueueAsync(iterations, count, format, progress, cancellationToken), Enqueued);

    public Task<EnqueueOutcome> EnqueueLikeTheBookAsync(EntryFormat format) =>
        ActAsync("enqueue", Queue.QueueName, $"like the book, {format}", () => inner.EnqueueLikeTheBookAsync(format), Enqueued);

    public Task<EnqueueOutcome> EnqueueManyAsync(IReadOnlyList<long> tasks, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default) =>
        ActAsync("enqueue", Queue.QueueName, $"{tasks.Count} task(s), {format}", () => inner.EnqueueManyAsync(tasks, format, progress, cancellationToken),
            Enqueued);

    public Task RecordAsync(string action, string parameters, bool succeeded, string? outcome) =>
        guard.RecordAsync(action, Queue.QueueName, parameters, succeeded, outcome);

    /// <summary>What an enqueue did, for the audit: how many, and the first and last ids (a batch's ids run in order).</summary>
    private static string Enqueued(EnqueueOutcome o) =>
        $"enqueued {o.Count:N0}" + (o.Ids.Count == 0 ? "" : o.Ids.Count == 1 ? $", id {o.Ids[0]}" : $", first id {o.Ids[0]}, last id {o.Ids[^1]}");

    public Task<QueuePage> PeekAsync(QueueEnd end, int offset, int count) => inner.PeekAsync(end, offset, count);

    public Task<long> PurgeAsync(long expected) =>
        ActAsync("purge", Queue.QueueName, $"{expected} expected", () => inner.PurgeAsync(expected));

    public Task SetPausedAsync(bool paused) =>
        ActAsync(paused ? "pause" : "resume", Queue.QueueName, "", async () =>
        {
            await inner.SetPausedAsync(paused);
            return true;
        });

    public Task<TaskStatusRecord?> GetTaskAsync(string id) => inner.GetTaskAsync(id);

    public Task<IReadOnlyList<TaskResult>> RecentResultsAsync(int count) => inner.RecentResultsAsync(count);

    public Task<DeadLetterPage> DeadLettersAsync(int offset, int count) => inner.DeadLettersAsync(offset, count);

    public Task<string?> RetryDeadLetterAsync(string record, long? correctedIterations = null) =>
        ActAsync("retry dead letter", Shorten(record), correctedIterations is { } n ? $"corrected to {n} iterations" : "",
            () => inner.RetryDeadLetterAsync(record, correctedIterations));

    public Task<(int Retried, int Left)> RetryAllDeadLettersAsync() =>
        ActAsync("retry all dead letters", Queue.QueueName, "", inner.RetryAllDeadLettersAsync);

    public Task DeleteDeadLetterAsync(string record) =>
        ActAsync("delete dead letter", Shorten(record), "", async () =>
        {
            await inner.DeleteDeadLetterAsync(record);
            return true;
        });

    public Task<long> DeleteAllDeadLettersAsync(long expected) =>
        ActAsync("delete all dead letters", Queue.QueueName, $"{expected} expected", () => inner.DeleteAllDeadLettersAsync(expected));

    private Task<T> ActAsync<T>(string action, string target, string parameters, Func<Task<T>> act, Func<T, string>? describe = null) =>
        guard.ActAsync(action, target, parameters, _ => act(), describe);

    private static string Shorten(string record) => record.Length <= 120 ? record : record[..120] + "…";
}
