using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Tests.Resilience;

/// <summary>
/// The ids of the tasks a run enqueued, and the account of what became of each: done (its status record says so),
/// missing, and how many completions the workers reported beyond one per task (the duplicates at-least-once allows).
/// Read from Redis itself (status records, the stats hash), which survive a Redis restart, unlike pub/sub messages.
/// </summary>
public sealed class TaskLedger(IConnectionMultiplexer redis, string queue, IReadOnlyList<string> ids)
{
    private readonly QueueKeys _keys = new(queue);

    public IReadOnlyList<string> Ids => ids;

    public QueueKeys Keys => _keys;

    /// <summary>Enqueues <paramref name="count"/> envelopes through TaskProducer, as the dashboard and the API do.</summary>
    public static Task<TaskLedger> EnqueueAsync(IConnectionMultiplexer redis, string queue, int count, long iterations) =>
        EnqueueAsync(redis, queue, Enumerable.Repeat(iterations, count).ToArray());

    public static async Task<TaskLedger> EnqueueAsync(IConnectionMultiplexer redis, string queue, long[] iterations)
    {
        var producer = new TaskProducer(redis, new QueueOptions { QueueName = queue });
        var ids = await producer.EnqueueAsync(iterations);
        return new TaskLedger(redis, queue, ids);
    }

    /// <summary>The stats hash's done count, or null while Redis is away.</summary>
    public async Task<long?> CompletionsAsync()
    {
        try
        {
            return (long)await redis.GetDatabase().HashGetAsync(_keys.Stats, "done");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Waits until the workers have reported at least <paramref name="count"/> completions.</summary>
    public Task WaitForCompletionsAsync(long count, TimeSpan timeout) =>
        Eventually.WaitAsync(async () => await CompletionsAsync() >= count, timeout, $"{count:N0} completions on {queue}");

    /// <summary>
    /// Deletes what the run left: every task's status record, its batches' results hashes and the stats hash. A
    /// benchmark's next round then starts where this one did, not on a database grown by it (bench/README.md, throughput).
    /// </summary>
    public async Task ForgetAsync()
    {
        var db = redis.GetDatabase();
        foreach (var page in ids.Chunk(1000))
        {
            await db.KeyDeleteAsync([.. page.Select(id => _keys.TaskStatus(id))], CommandFlags.FireAndForget);
        }

        var batches = ids.Select(id => _keys.BatchResultsOf(id)).OfType<RedisKey>().Distinct().ToArray();
        foreach (var page in batches.Chunk(1000))
        {
            await db.KeyDeleteAsync(page, CommandFlags.FireAndForget);
        }

        // Behind every page on the same connection: when it returns, they all ran.
        await db.KeyDeleteAsync(_keys.Stats);
    }

    /// <summary>
    /// How many tasks of <paramref name="queue"/> are done, known or not to the caller (enqueued without an
    /// acknowledgement, say): every task whose own record says done or whose batch's results hash holds its result.
    /// </summary>
    public static async Task<int> CountDoneAsync(IConnectionMultiplexer redis, string queue)
    {
        var keys = new QueueKeys(queue);
        var server = redis.GetServer(keys.Queue);
        var db = redis.GetDatabase();
        var done = new HashSet<string>();
        string own = keys.TaskStatus("").ToString();
        await foreach (var key in server.KeysAsync(pattern: own + "*", pageSize: 1000))
        {
            if ((string?)await db.HashGetAsync(key, "state") == "done")
            {
                done.Add(key.ToString()[own.Length..]);
            }
        }

        await foreach (var key in server.KeysAsync(pattern: keys.BatchResults("").ToString() + "*", pageSize: 1000))
        {
            done.UnionWith((await db.HashKeysAsync(key)).Select(f => f.ToString()));
        }

        return done.Count;
    }

    /// <summary>One reading of every task's state, the totals and what is left in the queue and in flight.</summary>
    public async Task<LedgerReport> ReadAsync()
    {
        var db = redis.GetDatabase();
        var states = ids.Select(id => TaskStatusRecord.ReadAsync(db, _keys, id)).ToArray();
        var statsTask = db.HashGetAllAsync(_keys.Stats);
        var queuedTask = db.ListLengthAsync(_keys.Queue);
        var deadTask = db.ListLengthAsync(_keys.DeadLetters);
        var workersTask = db.SetMembersAsync(_keys.Workers);
        await Task.WhenAll(states);
        await Task.WhenAll(statsTask, queuedTask, deadTask, workersTask);
        var inFlight = workersTask.Result.Select(w => db.ListLengthAsync(_keys.InFlight((string)w!))).ToArray();
        await Task.WhenAll(inFlight);

        var missing = new List<string>();
        int maxAttempt = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            var status = states[i].Result;
            if (status?.State != TaskState.Done)
            {
                missing.Add(ids[i]);
            }

            maxAttempt = Math.Max(maxAttempt, status?.Attempt ?? 0);
        }

        long Stat(string name) => statsTask.Result.FirstOrDefault(e => e.Name == name).Value is { IsNull: false } v ? (long)v : 0;
        return new LedgerReport(ids.Count, ids.Count - missing.Count, missing, Stat("done"), Stat("recovered"), Stat("failed"),
            maxAttempt, queuedTask.Result, inFlight.Sum(t => t.Result), deadTask.Result);
    }

    /// <summary>
    /// Waits until every task is done and nothing is left queued or in flight, reading through Redis outages; fails
    /// with the last account if that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task<LedgerReport> WaitUntilCompleteAsync(TimeSpan timeout, Func<string>? context = null)
    {
        LedgerReport? last = null;
        string? lastError = null;
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                var db = redis.GetDatabase();
                // The cheap check first: the done count reaches the task count before every id can be done.
                if ((long)await db.HashGetAsync(_keys.Stats, "done") < ids.Count)
                {
                    return false;
                }

                last = await ReadAsync();
                return last.AllDone && last.Queued == 0 && last.InFlight == 0;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                lastError = ex.Message;
                return false;
            }
        }, timeout, () => $"every task done: {last?.Describe() ?? "no full reading yet"}" +
                          (lastError is null ? "" : $"; last Redis error: {lastError}") + (context is null ? "" : "\n" + context()));
        return last!;
    }
}

/// <param name="Completions">The stats hash's done count: one per completion, duplicates included.</param>
/// <param name="Recovered">Entries given back to the queue after their worker was found dead.</param>
public sealed record LedgerReport(
    int Tasks, int Done, IReadOnlyList<string> Missing, long Completions, long Recovered, long Failed, int MaxAttempt,
    long Queued, long InFlight, long DeadLetters)
{
    public bool AllDone => Missing.Count == 0;

    /// <summary>Completions beyond one per task: the price of at-least-once.</summary>
    public long Duplicates => Math.Max(0, Completions - Tasks);

    public string Describe() =>
        $"{Done:N0}/{Tasks:N0} done, {Missing.Count:N0} missing{(Missing.Count > 0 ? $" (e.g. {string.Join(", ", Missing.Take(3))})" : "")}, " +
        $"{Completions:N0} completions ({Duplicates:N0} duplicates), {Recovered:N0} recovered, {Failed:N0} failed, " +
        $"max attempt {MaxAttempt}, {Queued:N0} queued, {InFlight:N0} in flight, {DeadLetters:N0} dead letters";
}
