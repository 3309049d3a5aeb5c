using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>Puts tasks on the queue: one, or many pipelined in all-or-nothing batches, in either entry format.</summary>
public sealed class TaskProducer(IConnectionMultiplexer redis, QueueOptions options)
{
    /// <summary>Entries per script call: large enough to amortise the round trip, small enough for Lua's stack.</summary>
    public const int BatchSize = 1000;

    private readonly QueueKeys _keys = new(options.QueueName);

    /// <summary>
    /// Validates every count first (nothing is enqueued if one is bad), then pushes in batches, several in flight at
    /// once. Returns the ids given to the tasks (empty strings for plain entries, which carry none).
    /// </summary>
    public async Task<IReadOnlyList<string>> EnqueueAsync(IReadOnlyList<long> iterations, EntryFormat? format = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < iterations.Count; i++)
        {
            if (iterations[i] < 0 || iterations[i] > options.MaxIterations)
            {
                throw new ArgumentOutOfRangeException(nameof(iterations),
                    $"Task {i + 1}: {iterations[i]} iterations is outside 0 to {options.MaxIterations:N0}; nothing was enqueued.");
            }
        }

        var fmt = format ?? options.ProducerFormat;
        var ids = new string[iterations.Count];
        var db = redis.GetDatabase();
        var now = DateTimeOffset.UtcNow;
        string enqueuedAt = TaskStatusRecord.Time(now);
        string envelopeTail = ",\"enqueuedAt\":\"" + enqueuedAt + "\",\"attempt\":1}";
        var inFlight = new Queue<(Task Tx, int Start, int Count)>();
        var landed = new List<(int Start, int Count)>();
        int done = 0;
        try
        {
            for (int start = 0; start < iterations.Count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(BatchSize, iterations.Count - start);
                string batch = TaskIds.NewBatch();
                long first = iterations[start];
                bool uniform = true;
                var args = new RedisValue[3 + count]; // entries from index 3
                for (int j = 0; j < count; j++)
                {
                    long n = iterations[start + j];
                    uniform &= n == first;
                    if (fmt == EntryFormat.Plain)
                    {
                        ids[start + j] = "";
                        args[3 + j] = n.ToString(CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        string id = ids[start + j] = batch + "-" + j.ToString(CultureInfo.InvariantCulture);
                        // The envelope's JSON written directly (ids and numbers need no escaping): a million of them
                        // serialise in a fraction of the time a serializer takes. Tests read them back as TaskEnvelope.
                        args[3 + j] = string.Concat("{\"id\":\"", id, "\",\"iterations\":", n.ToString(CultureInfo.InvariantCulture), envelopeTail);
                    }
                }

                // MULTI/EXEC: the batch, its 'queued' record and the count land together or not at all.
                var tx = db.CreateTransaction();
                var batchKey = _keys.Batch(batch);
                _ = tx.ListRightPushAsync(_keys.Queue, args.AsSpan(3).ToArray());
                _ = tx.HashSetAsync(batchKey, [new("enqueuedAt", enqueuedAt), new("count", count), new("iterations", uniform ? first : "mixed")]);
                _ = tx.KeyExpireAsync(batchKey, options.StatusTtl);
                _ = tx.HashIncrementAsync(_keys.Stats, "enqueued", count);
                inFlight.Enqueue((tx.ExecuteAsync(), start, count));
                // Keep a few batches on the wire: pipelining without letting an unbounded backlog build up.
                while (inFlight.Count >= 16)
                {
                    // Dequeued only once confirmed: a batch whose await throws is still accounted for below.
                    var b = inFlight.Peek();
                    await b.Tx;
                    inFlight.Dequeue();
                    landed.Add((b.Start, b.Count));
                }

                done += count;
                progress?.Report(done);
            }

            while (inFlight.Count > 0)
            {
                var b = inFlight.Peek();
                await b.Tx;
                inFlight.Dequeue();
                landed.Add((b.Start, b.Count));
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException && (landed.Count > 0 || inFlight.Count > 0))
        {
            // Part-way: say exactly what landed, and what was sent but not confirmed (a late reply may still land it).
            int unconfirmed = 0;
            while (inFlight.Count > 0)
            {
                var b = inFlight.Dequeue();
                try
                {
                    await b.Tx;
                    landed.Add((b.Start, b.Count));
                }
                catch (Exception e) when (e is RedisTimeoutException or TimeoutException)
                {
                    unconfirmed += b.Count;
                }
                catch (Exception e) when (e is RedisException)
                {
                    // Refused or never sent: not enqueued.
                }
            }

            if (landed.Count == 0 && unconfirmed == 0)
            {
                throw;
            }

            landed.Sort();
            var enqueued = landed.SelectMany(b => Enumerable.Range(b.Start, b.Count)).Select(i => ids[i]).ToList();
            throw new EnqueueIncompleteException(iterations.Count, enqueued, unconfirmed, ex);
        }

        return ids;
    }
}

/// <summary>
/// An enqueue that Redis failed (or that was cancelled) part-way: some batches landed whole, some may have.
/// The message says how many of each, and the first and last ids of those that landed.
/// </summary>
public sealed class EnqueueIncompleteException(int total, IReadOnlyList<string> enqueued, int unconfirmed, Exception inner)
    : Exception(Describe(total, enqueued, unconfirmed, inner), inner)
{
    public IReadOnlyList<string> Enqueued { get; } = enqueued;

    public int Unconfirmed { get; } = unconfirmed;

    private static string Describe(int total, IReadOnlyList<string> enqueued, int unconfirmed, Exception inner)
    {
        var c = CultureInfo.InvariantCulture;
        string which = enqueued.Count == 0 || enqueued[0].Length == 0 ? ""
            : enqueued.Count == 1 ? $" (id {enqueued[0]})" : $" (first id {enqueued[0]}, last id {enqueued[^1]})";
        string cause = inner is OperationCanceledException ? "The enqueue was cancelled part-way" : "Redis failed part-way through the enqueue";
        return $"{cause}: {enqueued.Count.ToString("N0", c)} of {total.ToString("N0", c)} task(s) were enqueued{which}" +
               (unconfirmed > 0 ? $"; {unconfirmed.ToString("N0", c)} more were sent but not confirmed, and may have landed if Redis answered late" : "") +
               $"; the other {(total - enqueued.Count - unconfirmed).ToString("N0", c)} were not enqueued" + inner switch
               {
                   OperationCanceledException => ".",
                   TimeoutException => " (Redis did not reply in time).",
                   RedisConnectionException => " (the connection to Redis failed).",
                   _ => $" ({inner.GetType().Name}).",
               };
    }
}
