using System.Globalization;
using PiOps.Shared.Redis;
using PiOps.Shared.Telemetry;
using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// A worker's side of the protocol. Each step says what holds if the process dies right after it.
/// Blocking pops go through <paramref name="blocking"/>, a connection of their own, since a blocking command stalls
/// every other caller of the multiplexer it runs on.
/// </summary>
public sealed class WorkerQueue(IConnectionMultiplexer redis, IConnectionMultiplexer blocking, QueueOptions options, string workerId)
{
    private readonly QueueKeys _keys = new(options.QueueName);
    private IDatabase Db => redis.GetDatabase();

    /// <summary>With REDIS_WAIT_REPLICAS the completions are published by this class, once replicas have the results.</summary>
    private bool PublishAfterWait => options.WaitReplicas > 0;

    /// <summary>Results stored on the primary whose replica acknowledgement is still owed: published once it comes.</summary>
    private readonly List<string> _unacknowledged = [];

    /// <summary>
    /// WAIT sent right behind a store (on the same connection, so it covers it); a no-op unless REDIS_WAIT_REPLICAS is set.
    /// Throws <see cref="ReplicaAcknowledgeException"/>, a transient fault: the caller retries the step, and a retried
    /// store finds its entries gone from the in-flight list (stored already) unless a failover lost them (stored again).
    /// </summary>
    private Task AcknowledgeAsync(string what) =>
        ReplicaWait.AcknowledgeAsync(redis, _keys.Queue, options.WaitReplicas, options.WaitTimeout, what);

    public string WorkerId { get; } = workerId;

    public QueueKeys Keys => _keys;

    public QueueOptions Options => options;

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for an entry and moves it, in one atomic step, from the head of the
    /// queue to this worker's in-flight list. From here on the entry is never only in this process's memory: if the
    /// process dies, it sits in the in-flight list until a live worker recovers it.
    /// </summary>
    public async Task<string?> TakeAsync(TimeSpan timeout)
    {
        var result = await blocking.GetDatabase().ExecuteAsync("BLMOVE",
            _keys.Queue, _keys.InFlight(WorkerId), "LEFT", "RIGHT", Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)));
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>
    /// Stores the result and removes the entry from the in-flight list in one step. Dying before this step means
    /// the task runs again (at least once); after it, it is done exactly once in the results. Stores nothing when the
    /// entry was no longer in flight: <see cref="StoreOutcome.AlreadyStored"/> when an earlier try stored it,
    /// <see cref="StoreOutcome.Fenced"/> when it was recovered for another attempt (counted as 'fenced'). An empty
    /// <paramref name="raw"/> (a task that never was in the queue) is always stored.
    /// </summary>
    public async Task<StoreOutcome> CompleteAsync(string raw, TaskResult result)
    {
        string json = QueueJson.Serialize(result);
        RedisValue[] args =
        [
            raw, json, options.ResultsToKeep, (long)options.StatusTtl.TotalSeconds, PublishAfterWait ? "" : _keys.Completions.ToString(),
            result.Attempt, result.Worker,
        ];
        var stored = Db.ScriptEvaluateAsync(QueueScripts.Complete,
            [_keys.InFlight(WorkerId), _keys.Results, _keys.TaskStatus(result.Id), _keys.Stats], args);
        var acknowledged = AcknowledgeAsync($"the result of task {result.Id}");
        var outcome = (long)await stored switch
        {
            1 => StoreOutcome.Stored,
            0 => StoreOutcome.AlreadyStored,
            _ => StoreOutcome.Fenced,
        };
        await acknowledged;
        if (outcome == StoreOutcome.Stored && PublishAfterWait)
        {
            await Db.PublishAsync(_keys.Completions, json);
        }

        return outcome;
    }

    /// <summary>
    /// One round trip: stores <paramref name="finished"/> (each as <see cref="CompleteAsync"/> would), then takes up to
    /// <paramref name="take"/> entries unless the queue is paused, and returns every entry this worker now holds.
    /// If the process dies before this call, the finished tasks are still in flight and run again (at least once);
    /// if it dies after, the newly taken entries sit in the in-flight list until a live worker recovers them.
    /// </summary>
    public async Task<TakeResult> CompleteAndTakeAsync(IReadOnlyList<FinishedTask> finished, int take)
    {
        int n = finished.Count;
        // Each result names the results hash of its task's batch, if any; consecutive tasks mostly share one.
        var batches = new List<RedisKey>(2);
        var batchOf = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (_keys.BatchResultsOf(finished[i].Result.Id) is { } batch)
            {
                int b = batches.Count > 0 && batches[^1] == batch ? batches.Count - 1 : batches.IndexOf(batch);
                if (b < 0)
                {
                    batches.Add(batch);
                    b = batches.Count - 1;
                }

                batchOf[i] = b + 1;
            }
        }

        var keys = new RedisKey[6 + n + batches.Count];
        keys[0] = _keys.InFlight(WorkerId);
        keys[1] = _keys.Results;
        keys[2] = _keys.Stats;
        keys[3] = _keys.Queue;
        keys[4] = _keys.Paused;
        keys[5] = _keys.Protocol;
        batches.CopyTo(keys, 6 + n);
        var args = new RedisValue[5 + n * 6];
        var jsons = new string[n];
        args[0] = options.ResultsToKeep;
        args[1] = (long)options.StatusTtl.TotalSeconds;
        args[2] = PublishAfterWait ? "" : _keys.Completions.ToString();
        args[3] = n;
        args[4] = take;
        for (int i = 0; i < n; i++)
        {
            var (raw, result) = finished[i];
            keys[6 + i] = _keys.TaskStatus(result.Id);
            int a = 5 + i * 6;
            args[a] = raw;
            args[a + 1] = jsons[i] = QueueJson.Serialize(result);
            args[a + 2] = result.Attempt;
            args[a + 3] = result.Worker;
            args[a + 4] = result.Id;
            args[a + 5] = batchOf[i];
        }

        using var span = QueueTelemetry.StartRedis("EVALSHA", "complete-and-take");
        var step = Db.ScriptEvaluateAsync(QueueScripts.CompleteAndTake, keys, args);
        var acknowledged = finished.Count == 0 && _unacknowledged.Count == 0
            ? Task.CompletedTask
            : AcknowledgeAsync($"{finished.Count} result(s) of worker {WorkerId}");
        var reply = (RedisResult[])(await step)!;
        var held = new string[reply.Length - 2];
        for (int i = 2; i < reply.Length; i++)
        {
            held[i - 2] = (string)reply[i]!;
        }

        string stored = (string?)reply[1] ?? "";
        if (PublishAfterWait)
        {
            for (int i = 0; i < stored.Length && i < finished.Count; i++)
            {
                // A retry after a failed WAIT finds these stored ('0'), unless a failover lost them ('1' again).
                if (stored[i] == '1' && !_unacknowledged.Contains(jsons[i]))
                {
                    _unacknowledged.Add(jsons[i]);
                }
            }
        }

        // Dying (or failing over) before the replicas acknowledge: the results may be lost with the primary, and then
        // their entries are back in our in-flight list, so they run again. Nothing has been told about them yet.
        await acknowledged;
        await PublishAcknowledgedAsync();
        var fenced = new List<FinishedTask>();
        for (int i = 0; i < stored.Length && i < finished.Count; i++)
        {
            if (stored[i] == 'f')
            {
                fenced.Add(finished[i]);
            }
        }

        return new TakeResult((string?)reply[0] == "paused", held, stored.Count(c => c == '0'), fenced);
    }

    /// <summary>Publishes the completions of results the replicas now have (at least once: a failover may repeat one).</summary>
    private async Task PublishAcknowledgedAsync()
    {
        if (_unacknowledged.Count == 0)
        {
            return;
        }

        var db = Db;
        await Task.WhenAll(_unacknowledged.Select(json => db.PublishAsync(_keys.Completions, json)));
        _unacknowledged.Clear();
    }

    /// <summary>Puts entries this worker took but will not start back at the head of the queue, in order, unchanged.</summary>
    public async Task<int> GiveBackAsync(IReadOnlyList<string> entries) =>
        entries.Count == 0 ? 0
            : (int)await Db.ScriptEvaluateAsync(QueueScripts.GiveBack, [_keys.InFlight(WorkerId), _keys.Queue],
                [.. entries.Select(e => (RedisValue)e)]);

    /// <summary>
    /// Moves an entry that cannot be run from the in-flight list to the dead letters, in one step. Returns false, having
    /// changed nothing, when the entry was no longer in flight (an earlier try moved it).
    /// </summary>
    public async Task<bool> DeadLetterAsync(string raw, DeadLetter letter)
    {
        var args = new List<RedisValue> { raw, QueueJson.Serialize(letter), (long)options.StatusTtl.TotalSeconds };
        if (letter.TaskId is not null)
        {
            foreach (var e in TaskStatusRecord.Dead(letter.Reason, letter.Attempts, letter.Worker, letter.At))
            {
                args.Add(e.Name);
                args.Add(e.Value);
            }
        }

        using var span = QueueTelemetry.StartRedis("EVALSHA", "dead-letter");
        var moved = Db.ScriptEvaluateAsync(QueueScripts.DeadLetter,
            [_keys.InFlight(WorkerId), _keys.DeadLetters, _keys.Stats, _keys.TaskStatus(letter.TaskId ?? "-")], [.. args]);
        var acknowledged = AcknowledgeAsync("a dead letter");
        bool done = (long)await moved == 1;
        await acknowledged;
        return done;
    }

    /// <summary>
    /// Marks a task as being worked on, unless its record has moved past this attempt (a write that arrives late, after
    /// a partition, must not overwrite another attempt's result). Best effort: losing this write loses no task.
    /// </summary>
    public async Task MarkProcessingAsync(TaskEnvelope task)
    {
        var fields = TaskStatusRecord.Processing(task, WorkerId, DateTimeOffset.UtcNow);
        var args = new RedisValue[3 + fields.Length * 2];
        args[0] = (long)options.StatusTtl.TotalSeconds;
        args[1] = task.Attempt;
        args[2] = task.Id;
        for (int i = 0; i < fields.Length; i++)
        {
            args[3 + 2 * i] = fields[i].Name;
            args[4 + 2 * i] = fields[i].Value;
        }

        using var span = QueueTelemetry.StartRedis("EVALSHA", "mark-processing");
        await Db.ScriptEvaluateAsync(QueueScripts.MarkProcessing, _keys.StatusKeys(task.Id), args);
    }

    /// <summary>Puts every in-flight entry back at the head of the queue unchanged: used when shutting down.</summary>
    /// <remarks>The worker unregisters next, so the replicas must have the returned entries first: lost in a failover, they would
    /// reappear in the in-flight list of a worker no one looks for.</remarks>
    public async Task<int> ReturnInFlightAsync()
    {
        var returned = Db.ScriptEvaluateAsync(QueueScripts.ReturnInFlight, [_keys.InFlight(WorkerId), _keys.Queue]);
        var acknowledged = AcknowledgeAsync("the entries given back at shutdown");
        int n = (int)await returned;
        await acknowledged;
        return n;
    }

    /// <summary>
    /// Refreshes the heartbeat with its expiry, then registers the id. In that order, so a registered worker
    /// without a heartbeat is always one that stopped beating, never one that has not started yet.
    /// </summary>
    public async Task BeatAsync(WorkerHeartbeat heartbeat)
    {
        var db = Db;
        await db.StringSetAsync(_keys.Heartbeat(WorkerId), QueueJson.Serialize(heartbeat), options.HeartbeatTtl);
        await db.SetAddAsync(_keys.Workers, WorkerId);
    }

    /// <summary>Leaves cleanly: no heartbeat, not registered. Call only with an empty in-flight list.</summary>
    public async Task UnregisterAsync()
    {
        var db = Db;
        await db.KeyDeleteAsync(_keys.Heartbeat(WorkerId));
        if (await db.ListLengthAsync(_keys.InFlight(WorkerId)) == 0)
        {
            await db.SetRemoveAsync(_keys.Workers, WorkerId);
        }
    }

    public async Task<bool> IsPausedAsync() => await Db.KeyExistsAsync(_keys.Paused);

    /// <summary>How much work is left that a queue-draining worker must wait for.</summary>
    public async Task<DrainState> GetDrainStateAsync()
    {
        var db = Db;
        long queued = await db.ListLengthAsync(_keys.Queue);
        var others = (await db.SetMembersAsync(_keys.Workers)).Select(v => (string)v!).Where(id => id != WorkerId).ToArray();
        var lengths = others.Select(id => db.ListLengthAsync(_keys.InFlight(id))).ToArray();
        await Task.WhenAll(lengths);
        return new DrainState(queued, lengths.Sum(t => t.Result));
    }
}

/// <summary>A task this worker ran, with the entry it came from, waiting to be stored.</summary>
public readonly record struct FinishedTask(string Raw, TaskResult Result);

/// <param name="Paused">The queue is paused: nothing new was taken.</param>
/// <param name="Held">Every entry in this worker's in-flight list, oldest first: the ones it must run or give back.</param>
/// <param name="Skipped">
/// Finished tasks not stored again because an earlier try whose reply was lost stored them. Nothing of theirs was
/// stored, published or counted again.
/// </param>
/// <param name="Fenced">
/// Finished tasks whose entry was recovered for another attempt while this worker was taken for dead (cut off from
/// Redis longer than its heartbeat lives): their results were refused, and counted as 'fenced' in the stats. The other
/// attempt's result is the one kept.
/// </param>
public sealed record TakeResult(bool Paused, IReadOnlyList<string> Held, int Skipped = 0, IReadOnlyList<FinishedTask>? Fenced = null)
{
    public IReadOnlyList<FinishedTask> Fenced { get; } = Fenced ?? [];
}

/// <summary>What a store did with one finished task.</summary>
public enum StoreOutcome
{
    /// <summary>Stored, counted and published.</summary>
    Stored,

    /// <summary>Nothing written: an earlier try of the same store did it, and its reply was lost.</summary>
    AlreadyStored,

    /// <summary>Refused: the entry was recovered for another attempt, whose result is the one kept. Counted as 'fenced'.</summary>
    Fenced,
}

/// <param name="Queued">Entries waiting in the queue.</param>
/// <param name="OthersInFlight">Entries in other workers' in-flight lists: running, or waiting to be recovered.</param>
public readonly record struct DrainState(long Queued, long OthersInFlight)
{
    public bool IsDrained => Queued == 0 && OthersInFlight == 0;
}
