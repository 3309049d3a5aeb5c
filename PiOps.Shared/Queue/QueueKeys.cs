using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// Every Redis key of the protocol (docs/queue-protocol.md). The list producers push onto is the queue's name itself,
/// as in the book; every other key starts with the name as a Redis Cluster hash tag (<c>{queue:task}:stats</c>), so all
/// keys of one queue hash to the list's own slot. Every script and transaction then touches one slot, the product runs
/// unchanged on Redis Cluster, and several queues spread over its shards.
/// </summary>
public sealed class QueueKeys(string queueName)
{
    public string QueueName { get; } = queueName;

    /// <summary>
    /// What every other key starts with: <c>{name}</c>, whose hash is the name's own. A name that already holds a hash
    /// tag (<c>{jobs}</c>, <c>app:{jobs}</c>) is its own prefix, since its keys already share that tag's slot.
    /// </summary>
    public string Prefix { get; } = HasHashTag(queueName) ? queueName : "{" + queueName + "}";

    /// <summary>The list of waiting tasks: producers RPUSH, workers move from the left.</summary>
    public RedisKey Queue => QueueName;

    /// <summary>Set of worker ids that may hold in-flight tasks.</summary>
    public RedisKey Workers => Prefix + ":workers";

    /// <summary>Dead letters, oldest first: JSON records with the original entry and the reason.</summary>
    public RedisKey DeadLetters => Prefix + ":dead";

    /// <summary>Recent results, newest first, trimmed.</summary>
    public RedisKey Results => Prefix + ":results";

    /// <summary>Hash of totals: enqueued, done, failed, recovered, fenced.</summary>
    public RedisKey Stats => Prefix + ":stats";

    /// <summary>While this key exists, workers take no new task.</summary>
    public RedisKey Paused => Prefix + ":paused";

    /// <summary>
    /// Pub/sub channel with one message (the result JSON) per completed task. A channel is not a key: it keeps the name
    /// it always had, and a cluster carries it to every node.
    /// </summary>
    public RedisChannel Completions => RedisChannel.Literal(QueueName + ":completions");

    /// <summary>The dashboard's user-to-session-stamp hash (signing out everywhere).</summary>
    public RedisKey Sessions => Prefix + ":sessions";

    /// <summary>The dashboard's API tokens: SHA-256 of the token to its name, role and times.</summary>
    public RedisKey Tokens => Prefix + ":tokens";

    /// <summary>The audit trail, newest first, bounded.</summary>
    public RedisKey Audit => Prefix + ":audit";

    /// <summary>The Data Protection key ring every dashboard replica signs cookies and forms with.</summary>
    public RedisKey DataProtection => Prefix + ":dataprotection";

    /// <summary>Set once nothing of the layout before hash tags is left (<see cref="KeyLayoutMigration"/>).</summary>
    public RedisKey Layout => Prefix + ":layout";

    /// <summary>
    /// The protocol version every worker in use speaks (<see cref="QueueProtocol"/>); absent means 1. The store script
    /// reads it: from 2 on, a task of a producer's batch has its result recorded in <see cref="BatchResults"/>.
    /// </summary>
    public RedisKey Protocol => Prefix + ":protocol";

    /// <summary>A worker's in-flight list: the entry it is working on, moved there atomically from the queue.</summary>
    public RedisKey InFlight(string workerId) => Prefix + ":inflight:" + workerId;

    /// <summary>A worker's heartbeat record, which expires unless the worker refreshes it.</summary>
    public RedisKey Heartbeat(string workerId) => Prefix + ":worker:" + workerId;

    /// <summary>The 'queued' record of one enqueued batch (enqueuedAt, count, iterations); task ids name their batch.</summary>
    public RedisKey Batch(string batchId) => Prefix + ":batch:" + batchId;

    /// <summary>
    /// The results of one enqueued batch's tasks (protocol 2): the task id to its result's JSON, one hash a batch, which
    /// expires a status TTL after its last write.
    /// </summary>
    public RedisKey BatchResults(string batchId) => Prefix + ":done:" + batchId;

    /// <summary>The results hash of the batch a task's id names, or null for a task whose id names none.</summary>
    public RedisKey? BatchResultsOf(string taskId) => TaskIds.TryGetBatch(taskId, out string batch) ? BatchResults(batch) : (RedisKey?)null;

    /// <summary>A task's own status record, then its batch's results hash if its id names a batch: what a record's scripts read.</summary>
    public RedisKey[] StatusKeys(string taskId) =>
        BatchResultsOf(taskId) is { } batch ? [TaskStatus(taskId), batch] : [TaskStatus(taskId)];

    /// <summary>A task's status record.</summary>
    public RedisKey TaskStatus(string taskId) => Prefix + ":task:" + taskId;

    /// <summary>One <c>Idempotency-Key</c> of the enqueue API, by the SHA-256 (hex) of its user and key.</summary>
    public RedisKey Idempotency(string hash) => Prefix + ":idempotency:" + hash;

    /// <summary>
    /// Redis Cluster's rule: a key's slot is the hash of what lies between its first '{' and the first '}' after it,
    /// when that is not empty; otherwise of the whole key.
    /// </summary>
    public static bool HasHashTag(string key)
    {
        int open = key.IndexOf('{');
        return open >= 0 && key.IndexOf('}', open + 1) is var close && close > open + 1;
    }
}
