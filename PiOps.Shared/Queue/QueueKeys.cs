using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// Every Redis key of the protocol (docs/queue-protocol.md). All start with the queue's name, so two queues in one
/// Redis never share state.
/// </summary>
public sealed class QueueKeys(string queueName)
{
    public string QueueName { get; } = queueName;

    /// <summary>The list of waiting tasks: producers RPUSH, workers move from the left.</summary>
    public RedisKey Queue { get; } = queueName;

    /// <summary>Set of worker ids that may hold in-flight tasks.</summary>
    public RedisKey Workers { get; } = queueName + ":workers";

    /// <summary>Dead letters, oldest first: JSON records with the original entry and the reason.</summary>
    public RedisKey DeadLetters { get; } = queueName + ":dead";

    /// <summary>Recent results, newest first, trimmed.</summary>
    public RedisKey Results { get; } = queueName + ":results";

    /// <summary>Hash of totals: enqueued, done, failed, recovered.</summary>
    public RedisKey Stats { get; } = queueName + ":stats";

    /// <summary>While this key exists, workers take no new task.</summary>
    public RedisKey Paused { get; } = queueName + ":paused";

    /// <summary>Pub/sub channel with one message (the result JSON) per completed task.</summary>
    public RedisChannel Completions { get; } = RedisChannel.Literal(queueName + ":completions");

    /// <summary>A worker's in-flight list: the entry it is working on, moved there atomically from the queue.</summary>
    public RedisKey InFlight(string workerId) => QueueName + ":inflight:" + workerId;

    /// <summary>A worker's heartbeat record, which expires unless the worker refreshes it.</summary>
    public RedisKey Heartbeat(string workerId) => QueueName + ":worker:" + workerId;

    /// <summary>The 'queued' record of one enqueued batch (enqueuedAt, count, iterations); task ids name their batch.</summary>
    public RedisKey Batch(string batchId) => QueueName + ":batch:" + batchId;

    /// <summary>A task's status record.</summary>
    public RedisKey TaskStatus(string taskId) => QueueName + ":task:" + taskId;
}
