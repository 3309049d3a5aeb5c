using System.Globalization;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Configuration;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Queue;

/// <summary>
/// Every operator action on the queue, for the pages, the HTTP API and the hub alike. Validates before it changes
/// anything, and explains failures in sentences (<see cref="OperatorActionException"/>).
/// </summary>
public sealed class QueueOperations(
    RedisConnection redis,
    QueueMonitor monitor,
    IOptions<QueueOptions> queueOptions,
    IOptions<DashboardOptions> dashboardOptions) : IQueueOperations
{
    public const int MaxPageSize = 100;

    private readonly QueueOptions _queue = queueOptions.Value;
    private readonly QueueKeys _keys = new(queueOptions.Value.QueueName);

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    public QueueOptions Queue => _queue;

    public int MaxBatch => dashboardOptions.Value.MaxBatch;

    /// <summary>Checks an enqueue request; returns the errors by field (empty when it is good).</summary>
    public Dictionary<string, string[]> Validate(string? iterations, string? count) =>
        EnqueueValidation.Validate(iterations, count, _queue.MaxIterations, MaxBatch);

    /// <summary>Enqueues <paramref name="count"/> tasks of <paramref name="iterations"/>; all or nothing per batch of 1,000.</summary>
    public async Task<EnqueueOutcome> EnqueueAsync(long iterations, int count, EntryFormat format,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (count < 1 || count > MaxBatch)
        {
            throw new OperatorActionException($"Count must be from 1 to {MaxBatch:N0}; nothing was enqueued.");
        }

        return await EnqueueManyAsync(Enumerable.Repeat(iterations, count).ToArray(), format, progress, cancellationToken);
    }

    /// <summary>The book's add_tasks.py: 10 tasks of random (10..100) x 100,000 iterations.</summary>
    public Task<EnqueueOutcome> EnqueueLikeTheBookAsync(EntryFormat format) =>
        EnqueueManyAsync(Enumerable.Range(0, 10).Select(_ => Random.Shared.Next(10, 101) * 100_000L).ToArray(), format);

    public async Task<EnqueueOutcome> EnqueueManyAsync(IReadOnlyList<long> tasks, EntryFormat format,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (tasks.Count == 0 || tasks.Count > MaxBatch)
        {
            throw new OperatorActionException($"A request must hold from 1 to {MaxBatch:N0} tasks (got {tasks.Count:N0}); nothing was enqueued.");
        }

        IReadOnlyList<string> ids;
        try
        {
            ids = await Do(() => new TaskProducer(redis.Multiplexer, _queue).EnqueueAsync(tasks, format, progress, cancellationToken));
        }
        catch (EnqueueIncompleteException ex)
        {
            // Not "nothing was changed": the sentence says how many landed and which.
            monitor.Poke();
            throw new OperatorActionException(ex.Message, ex);
        }

        long depth = await Do(() => Db.ListLengthAsync(_keys.Queue));
        monitor.Poke();
        return new EnqueueOutcome(tasks.Count, format == EntryFormat.Envelope ? ids : [], depth, tasks);
    }

    /// <summary>A bounded page of the queue from its head (oldest) or its tail (newest); never reads the whole list.</summary>
    public async Task<QueuePage> PeekAsync(QueueEnd end, int offset, int count)
    {
        count = Math.Clamp(count, 1, MaxPageSize);
        offset = Math.Max(0, offset);
        var db = Db;
        var lengthTask = db.ListLengthAsync(_keys.Queue);
        var rangeTask = end == QueueEnd.Head
            ? db.ListRangeAsync(_keys.Queue, offset, offset + count - 1)
            : db.ListRangeAsync(_keys.Queue, -offset - count, -offset - 1);
        await Do(() => Task.WhenAll(lengthTask, rangeTask));
        long length = lengthTask.Result;
        var values = rangeTask.Result.Select(v => (string)v!).ToList();
        long firstIndex = end == QueueEnd.Head ? offset : Math.Max(0, length - offset - values.Count);
        var items = values.Select((raw, i) => QueueItem.From(firstIndex + i, raw, _queue)).ToList();
        return new QueuePage(end, offset, length, items);
    }

    /// <summary>
    /// Removes the <paramref name="expected"/> oldest waiting tasks: the ones counted when the operator confirmed.
    /// Tasks enqueued since then stay. Returns how many were removed.
    /// </summary>
    public async Task<long> PurgeAsync(long expected)
    {
        if (expected < 0)
        {
            throw new OperatorActionException("The number of tasks to purge must be 0 or more.");
        }

        long removed = (long)await Do(() => Db.ScriptEvaluateAsync(WebScripts.TrimHead, [_keys.Queue], [expected]));
        if (removed > 0)
        {
            // Queued tasks are known by their batch; this lets a lookup say that a purge may have removed one.
            await Do(() => Db.HashSetAsync(_keys.Stats, "lastPurgeAt", DateTimeOffset.UtcNow.ToString("O")));
        }

        monitor.Poke();
        return removed;
    }

    public async Task SetPausedAsync(bool paused)
    {
        await Do(() => paused ? Db.StringSetAsync(_keys.Paused, DateTimeOffset.UtcNow.ToString("O")) : Db.KeyDeleteAsync(_keys.Paused));
        monitor.Poke();
    }

    public async Task<TaskStatusRecord?> GetTaskAsync(string id)
    {
        if (!TaskIds.IsValid(id))
        {
            throw new OperatorActionException("A task id is 1 to 100 letters, digits, '-', '_', '.' or ':'.");
        }

        var own = await Do(() => TaskStatusRecord.ReadAsync(Db, _keys, id));
        if (own is not null || !TaskIds.TryGetBatch(id, out string batch))
        {
            return own;
        }

        // Not taken by a worker yet: what its batch's record says.
        var db = Db;
        var batchTask = db.HashGetAllAsync(_keys.Batch(batch));
        var purgeTask = db.HashGetAsync(_keys.Stats, "lastPurgeAt");
        await Do(() => Task.WhenAll(batchTask, purgeTask));
        return TaskStatusRecord.FromBatch(id, batchTask.Result, TaskStatusRecord.ParseTime(purgeTask.Result));
    }

    public async Task<IReadOnlyList<TaskResult>> RecentResultsAsync(int count)
    {
        var values = await Do(() => Db.ListRangeAsync(_keys.Results, 0, Math.Clamp(count, 1, 1000) - 1));
        return values.Select(v => SafeDeserialize<TaskResult>(v)).OfType<TaskResult>().ToList();
    }

    public async Task<DeadLetterPage> DeadLettersAsync(int offset, int count)
    {
        count = Math.Clamp(count, 1, MaxPageSize);
        var db = Db;
        var totalTask = db.ListLengthAsync(_keys.DeadLetters);
        var rangeTask = db.ListRangeAsync(_keys.DeadLetters, Math.Max(0, offset), Math.Max(0, offset) + count - 1);
        await Do(() => Task.WhenAll(totalTask, rangeTask));
        var items = rangeTask.Result.Select(v => DeadLetterItem.From(v!, _queue)).ToList();
        return new DeadLetterPage(Math.Max(0, offset), totalTask.Result, items);
    }

    /// <summary>
    /// Puts one dead letter back on the queue (attempts start again) and removes it from the dead letters, in one step.
    /// An entry that cannot run as it is (bad input) is retried with <paramref name="correctedIterations"/>, as an
    /// envelope that keeps its task id.
    /// </summary>
    public async Task<string?> RetryDeadLetterAsync(string record, long? correctedIterations = null)
    {
        var item = DeadLetterItem.From(record, _queue);
        string? entry = item.RetryEntry;
        string? id = item.Letter?.TaskId;
        if (correctedIterations is { } n)
        {
            if (n < 0 || n > _queue.MaxIterations)
            {
                throw new OperatorActionException($"Iterations must be a whole number from 0 to {_queue.MaxIterations:N0}; nothing was retried.");
            }

            id ??= TaskIds.New();
            entry = QueueJson.Serialize(new TaskEnvelope(id, n, DateTimeOffset.UtcNow, 1));
        }

        if (entry is null)
        {
            throw new OperatorActionException($"This entry cannot run as it is ({item.WhyNotRetryable}). Give the corrected number of iterations to retry it, or delete it.");
        }

        long moved = (long)await Do(() => Db.ScriptEvaluateAsync(WebScripts.RetryDead, [_keys.DeadLetters, _keys.Queue],
            [record, entry]));
        monitor.Poke();
        if (moved == 0)
        {
            throw new OperatorActionException("That dead letter is no longer there: someone else retried or deleted it.");
        }

        return id;
    }

    /// <summary>Retries every dead letter that can run; the ones that cannot stay. Returns (retried, left).</summary>
    public async Task<(int Retried, int Left)> RetryAllDeadLettersAsync()
    {
        int retried = 0, left = 0;
        long offset = 0;
        while (true)
        {
            var batch = await Do(() => Db.ListRangeAsync(_keys.DeadLetters, offset, offset + 499));
            if (batch.Length == 0)
            {
                break;
            }

            var args = new List<RedisValue>();
            foreach (var v in batch)
            {
                var item = DeadLetterItem.From(v!, _queue);
                if (item.RetryEntry is null)
                {
                    left++;
                    continue;
                }

                args.Add(v);
                args.Add(item.RetryEntry);
            }

            if (args.Count > 0)
            {
                retried += (int)(long)await Do(() => Db.ScriptEvaluateAsync(WebScripts.RetryDead, [_keys.DeadLetters, _keys.Queue], [.. args]));
            }

            offset = left; // the ones left in place are at the front now
        }

        monitor.Poke();
        return (retried, left);
    }

    public async Task DeleteDeadLetterAsync(string record)
    {
        long removed = await Do(() => Db.ListRemoveAsync(_keys.DeadLetters, record, 1));
        monitor.Poke();
        if (removed == 0)
        {
            throw new OperatorActionException("That dead letter is no longer there: someone else retried or deleted it.");
        }
    }

    /// <summary>Deletes the <paramref name="expected"/> oldest dead letters, the ones the operator confirmed.</summary>
    public async Task<long> DeleteAllDeadLettersAsync(long expected)
    {
        long removed = (long)await Do(() => Db.ScriptEvaluateAsync(WebScripts.TrimHead, [_keys.DeadLetters], [Math.Max(0, expected)]));
        monitor.Poke();
        return removed;
    }

    private static T? SafeDeserialize<T>(RedisValue v) where T : class
    {
        try
        {
            return v.IsNullOrEmpty ? null : QueueJson.Deserialize<T>(v!);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Runs a Redis step and turns an outage into a sentence the operator can act on.</summary>
    private async Task<T> Do<T>(Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new OperatorActionException($"Redis at {redis.Endpoint} is not answering, so nothing was changed. Check that it is running and try again. ({ex.Message.Split('\n')[0]})", ex);
        }
    }

    private Task Do(Func<Task> step) => Do(async () =>
    {
        await step();
        return true;
    });
}

public enum QueueEnd
{
    Head,
    Tail,
}

public sealed record EnqueueOutcome(int Count, IReadOnlyList<string> Ids, long QueueDepth, IReadOnlyList<long> Iterations);

public sealed record QueuePage(QueueEnd End, int Offset, long Length, IReadOnlyList<QueueItem> Items);

/// <summary>One waiting entry as the queue page shows it.</summary>
public sealed record QueueItem(long Index, string Raw, string? TaskId, long? Iterations, int Attempt, string? Problem)
{
    public static QueueItem From(long index, string raw, QueueOptions options)
    {
        var entry = TaskEntry.Parse(raw, options);
        string shown = raw.Length > 200 ? raw[..200] + "…" : raw;
        return entry.IsValid
            ? new QueueItem(index, shown, entry.Format == EntryFormat.Envelope ? entry.Task!.Id : null, entry.Task!.Iterations, entry.Task.Attempt, null)
            : new QueueItem(index, shown, null, null, 0, entry.Error);
    }
}

public sealed record DeadLetterPage(int Offset, long Total, IReadOnlyList<DeadLetterItem> Items);

/// <summary>A dead letter as stored (the exact record, needed to retry or delete it) and what it says.</summary>
public sealed record DeadLetterItem(string Record, DeadLetter? Letter, string? RetryEntry, string? WhyNotRetryable)
{
    /// <summary>A guess at the intended iterations of a bad entry (its digits, e.g. 5000 from "5,000"), to start a correction.</summary>
    public string SuggestedIterations
    {
        get
        {
            string digits = new((Letter?.Entry ?? "").Where(char.IsAsciiDigit).Take(18).ToArray());
            return digits.Length > 0 ? digits.TrimStart('0').PadLeft(1, '0') : "";
        }
    }

    public static DeadLetterItem From(string record, QueueOptions options)
    {
        DeadLetter? letter;
        try
        {
            letter = QueueJson.Deserialize<DeadLetter>(record);
        }
        catch (System.Text.Json.JsonException)
        {
            letter = null;
        }

        if (letter is null)
        {
            return new DeadLetterItem(record, null, null, "the dead-letter record itself is unreadable");
        }

        var entry = TaskEntry.Parse(letter.Entry, options);
        if (!entry.IsValid)
        {
            return new DeadLetterItem(record, letter, null, entry.Error);
        }

        // Attempts start again, so a task that ran out of attempts gets its full count back.
        var retry = entry.Format == EntryFormat.Plain
            ? letter.Entry.Trim()
            : QueueJson.Serialize(entry.Task! with { Attempt = 1 });
        return new DeadLetterItem(record, letter, retry, null);
    }
}
