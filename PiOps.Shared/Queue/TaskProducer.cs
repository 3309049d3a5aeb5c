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
        long ttl = (long)options.StatusTtl.TotalSeconds;
        var inFlight = new Queue<Task>();
        int done = 0;
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
            inFlight.Enqueue(tx.ExecuteAsync());
            // Keep a few batches on the wire: pipelining without letting an unbounded backlog build up.
            while (inFlight.Count >= 16)
            {
                await inFlight.Dequeue();
            }

            done += count;
            progress?.Report(done);
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue();
        }

        return ids;
    }
}
