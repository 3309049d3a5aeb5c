using PiOps.Shared.Queue;

namespace PiOps.Web.Queue;

/// <summary>The shared live state of the queue: a snapshot plus change notifications. Pages render from this only.</summary>
public interface IQueueState
{
    QueueSnapshot Current { get; }

    /// <summary>Called after each sample with the new snapshot. Dispose to stop. Handlers must return quickly.</summary>
    IDisposable Subscribe(Func<QueueSnapshot, Task> onSnapshot);

    /// <summary>Called for each completed task.</summary>
    IDisposable SubscribeCompletions(Func<TaskResult, Task> onCompleted);

    /// <summary>
    /// Someone watches the queue live (an open page, a hub stream): while any watch is held, changes are looked for
    /// between samples, so they show within Dashboard:ProbeInterval. Dispose when the watcher goes.
    /// </summary>
    IDisposable Watch();
}

/// <summary>The operator's actions on the queue, for pages, the HTTP API and the hub.</summary>
public interface IQueueOperations
{
    QueueOptions Queue { get; }

    int MaxBatch { get; }

    Dictionary<string, string[]> Validate(string? iterations, string? count);

    Task<EnqueueOutcome> EnqueueAsync(long iterations, int count, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default);

    Task<EnqueueOutcome> EnqueueLikeTheBookAsync(EntryFormat format);

    Task<EnqueueOutcome> EnqueueManyAsync(IReadOnlyList<long> tasks, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default);

    Task<QueuePage> PeekAsync(QueueEnd end, int offset, int count);

    Task<long> PurgeAsync(long expected);

    Task SetPausedAsync(bool paused);

    Task<TaskStatusRecord?> GetTaskAsync(string id);

    Task<IReadOnlyList<TaskResult>> RecentResultsAsync(int count);

    Task<DeadLetterPage> DeadLettersAsync(int offset, int count);

    /// <summary>Puts a dead letter back on the queue (corrected if given); returns the task id it runs as, null for a plain entry.</summary>
    Task<string?> RetryDeadLetterAsync(string record, long? correctedIterations = null);

    Task<(int Retried, int Left)> RetryAllDeadLettersAsync();

    Task DeleteDeadLetterAsync(string record);

    Task<long> DeleteAllDeadLettersAsync(long expected);

    /// <summary>
    /// Records in the audit trail an action decided outside these methods: a request refused for bad input before
    /// anything was asked of Redis, or an enqueue answered from an earlier request with the same Idempotency-Key.
    /// Only the guarded operations keep an audit trail; elsewhere this does nothing.
    /// </summary>
    Task RecordAsync(string action, string parameters, bool succeeded, string? outcome) => Task.CompletedTask;
}
