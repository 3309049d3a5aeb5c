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
        string statusPrefix = options.QueueName + ":task:";
        long ttl = (long)options.StatusTtl.TotalSeconds;
        var inFlight = new Queue<Task>();
        int done = 0;
        for (int start = 0; start < iterations.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(BatchSize, iterations.Count - start);
            var args = new RedisValue[3 + count + (fmt == EntryFormat.Envelope ? count * 3 : 0)];
            args[0] = ttl;
            args[1] = statusPrefix;
            args[2] = count;
            for (int j = 0; j < count; j++)
            {
                long n = iterations[start + j];
                if (fmt == EntryFormat.Plain)
                {
                    ids[start + j] = "";
                    args[3 + j] = n.ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    string id = TaskIds.New();
                    ids[start + j] = id;
                    args[3 + j] = QueueJson.Serialize(new TaskEnvelope(id, n, now, 1));
                    int s = 3 + count + j * 3;
                    args[s] = id;
                    args[s + 1] = n;
                    args[s + 2] = enqueuedAt;
                }
            }

            inFlight.Enqueue(db.ScriptEvaluateAsync(QueueScripts.Enqueue, [_keys.Queue, _keys.Stats], args));
            // Keep a few batches on the wire: pipelining without letting an unbounded backlog build up.
            while (inFlight.Count >= 8)
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
