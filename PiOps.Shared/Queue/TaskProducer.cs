using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using PiOps.Shared.Redis;
using PiOps.Shared.Telemetry;
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
        // The producer's span starts each task's trace; envelopes carry its context (a plain entry has nowhere to).
        using var send = QueueTelemetry.StartSend(options.QueueName, iterations.Count);
        long sendStarted = Stopwatch.GetTimestamp();
        string? traceParent = fmt == EntryFormat.Plain ? null : QueueTelemetry.TraceParent(send);
        int batches = (iterations.Count + BatchSize - 1) / BatchSize;
        var batchIds = new string[batches];
        IReadOnlyList<string> ids = fmt == EntryFormat.Plain ? new PlainIds(iterations.Count) : new BatchTaskIds(batchIds, iterations.Count);
        var db = redis.GetDatabase();
        var now = DateTimeOffset.UtcNow;
        string enqueuedAt = TaskStatusRecord.Time(now);
        byte[] envelopeTail = Encoding.UTF8.GetBytes(",\"enqueuedAt\":\"" + enqueuedAt + "\",\"attempt\":1"
            + (traceParent is null ? "" : ",\"traceparent\":\"" + traceParent + "\"") + "}");
        var inFlight = new Queue<(Task Tx, int Start, int Count, byte[] Buffer)>();
        var landed = new List<(int Start, int Count)>();
        int done = 0;
        // A batch's lookup (below) is conclusive only on the connection its EXEC went out on.
        int connectionFailures = 0;
        EventHandler<ConnectionFailedEventArgs> countFailure = (_, _) => Interlocked.Increment(ref connectionFailures);
        redis.ConnectionFailed += countFailure;
        try
        {
            for (int start = 0; start < iterations.Count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(BatchSize, iterations.Count - start);
                string batch = batchIds[start / BatchSize] = TaskIds.NewBatch();
                long first = iterations[start];
                bool uniform = true;
                // The entries are written as UTF-8 straight into one pooled buffer per batch, and handed to Redis as
                // slices of it: a million strings (and their UTF-8 copies) cost more CPU than Redis spends storing them.
                var buffer = ArrayPool<byte>.Shared.Rent(count * (MaxEnvelopeHead + envelopeTail.Length));
                var entries = new RedisValue[count];
                int used = 0;
                for (int j = 0; j < count; j++)
                {
                    long n = iterations[start + j];
                    uniform &= n == first;
                    int length = fmt == EntryFormat.Plain
                        ? WritePlain(buffer.AsSpan(used), n)
                        : WriteEnvelope(buffer.AsSpan(used), batch, j, n, envelopeTail);
                    entries[j] = (ReadOnlyMemory<byte>)buffer.AsMemory(used, length);
                    used += length;
                }

                // MULTI/EXEC: the batch, its 'queued' record and the count land together or not at all.
                var tx = db.CreateTransaction();
                var batchKey = _keys.Batch(batch);
                _ = tx.ListRightPushAsync(_keys.Queue, entries);
                _ = tx.HashSetAsync(batchKey, [new("enqueuedAt", enqueuedAt), new("count", count), new("iterations", uniform ? first : "mixed")]);
                _ = tx.KeyExpireAsync(batchKey, options.StatusTtl);
                _ = tx.HashIncrementAsync(_keys.Stats, "enqueued", count);
                var exec = tx.ExecuteAsync();
                // With REDIS_WAIT_REPLICAS, a batch is acknowledged only once that many replicas have it: the WAIT goes
                // right behind the EXEC, on the same connection, so it covers it.
                var acknowledged = ReplicaWait.AcknowledgeAsync(redis, _keys.Queue, options.WaitReplicas, options.WaitTimeout,
                    $"a batch of {count} task(s) on {options.QueueName}");
                inFlight.Enqueue((ReplicaWait.AfterAsync(exec, acknowledged), start, count, buffer));
                // Keep a few batches on the wire: pipelining without letting an unbounded backlog build up.
                while (inFlight.Count >= 16)
                {
                    // Dequeued only once confirmed: a batch whose await throws is still accounted for below.
                    var b = inFlight.Peek();
                    await b.Tx;
                    inFlight.Dequeue();
                    landed.Add((b.Start, b.Count));
                    ArrayPool<byte>.Shared.Return(b.Buffer); // the reply came, so the command was written long ago
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
                ArrayPool<byte>.Shared.Return(b.Buffer);
            }
        }
        catch (Exception ex) when ((RedisFailure.Is(ex) || ex is OperationCanceledException) && (landed.Count > 0 || inFlight.Count > 0))
        {
            // Part-way, or only late: say exactly what landed. A batch whose reply came too late is looked up (see
            // LandedAsync), so a slow Redis is not reported as a failure. The buffers of unsettled batches go to the
            // GC, not back to the pool: a command not yet written still reads them.
            int unconfirmed = 0;
            var late = new List<(int Start, int Count)>();
            while (inFlight.Count > 0)
            {
                var b = inFlight.Dequeue();
                try
                {
                    await b.Tx;
                    landed.Add((b.Start, b.Count));
                }
                catch (Exception e) when (e is TimeoutException or OperationCanceledException)
                {
                    late.Add((b.Start, b.Count)); // a reply not had: whether it landed is looked up below
                }
                catch (ReplicaAcknowledgeException)
                {
                    unconfirmed += b.Count; // on the primary without enough replicas: it may stay or be lost
                }
                catch (Exception e) when (e is RedisException)
                {
                    // Refused or never sent: not enqueued.
                }
            }

            var found = await LandedAsync(db, late.Select(b => _keys.Batch(batchIds[b.Start / BatchSize])).ToList());
            bool sameConnection = Volatile.Read(ref connectionFailures) == 0;
            for (int i = 0; i < late.Count; i++)
            {
                if (found[i] == true && options.WaitReplicas <= 0)
                {
                    landed.Add(late[i]);
                }
                else if (found[i] is null || found[i] == true || !sameConnection)
                {
                    // Unknown; stored without the replicas' acknowledgement; or not there yet, but its EXEC may still
                    // be read from a connection that since failed.
                    unconfirmed += late[i].Count;
                }

                // Otherwise not enqueued, and it cannot land later.
            }

            int landedCount = landed.Sum(b => b.Count);
            if (landedCount == iterations.Count && !cancellationToken.IsCancellationRequested)
            {
                RecordSent(iterations.Count, sendStarted);
                return ids; // every batch landed; only their replies were late
            }

            QueueTelemetry.Fail(send, ex.GetType().Name, "part of the enqueue failed");
            // StackExchange.Redis cancels a command it fails without a reason: that is Redis failing, not the caller.
            var cause = ex is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis failed a command without saying why", ex) : ex;
            if (landed.Count == 0 && unconfirmed == 0)
            {
                if (ReferenceEquals(cause, ex))
                {
                    throw;
                }

                throw cause;
            }

            landed.Sort();
            var enqueued = landed.SelectMany(b => Enumerable.Range(b.Start, b.Count)).Select(i => ids[i]).ToList();
            throw new EnqueueIncompleteException(iterations.Count, enqueued, unconfirmed, cause);
        }
        finally
        {
            redis.ConnectionFailed -= countFailure;
        }

        RecordSent(iterations.Count, sendStarted);
        return ids;
    }

    /// <summary>
    /// Whether each batch whose reply timed out landed. A batch's record is written in the same MULTI/EXEC as its tasks,
    /// and the lookups go on the same connection, so Redis answers them after the EXEC: a record is there exactly when
    /// its tasks are, and a batch not there now will not land later. The lookups are pipelined and wait one command
    /// timeout; null for a batch Redis did not answer about.
    /// </summary>
    private static async Task<bool?[]> LandedAsync(IDatabase db, IReadOnlyList<RedisKey> batchKeys)
    {
        var found = new bool?[batchKeys.Count];
        var asked = batchKeys.Select(key => db.KeyExistsAsync(key)).ToList();
        for (int i = 0; i < asked.Count; i++)
        {
            try
            {
                found[i] = await asked[i];
            }
            catch (Exception e) when (RedisFailure.Is(e))
            {
                // Not answered: stays unknown.
            }
        }

        return found;
    }

    private void RecordSent(int count, long sendStarted)
    {
        if (QueueTelemetry.SentMessages.Enabled || QueueTelemetry.OperationDuration.Enabled)
        {
            var tags = QueueTelemetry.QueueTags(options.QueueName);
            QueueTelemetry.SentMessages.Add(count, tags);
            tags.Add("messaging.operation.name", "send");
            QueueTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(sendStarted).TotalSeconds, tags);
        }
    }

    // {"id":" + batch (33) + "-" + index (up to 4 digits) + ","iterations": + up to 20 digits: well under 96 bytes.
    private const int MaxEnvelopeHead = 96;

    private static ReadOnlySpan<byte> IdOpen => "{\"id\":\""u8;
    private static ReadOnlySpan<byte> IterationsKey => "\",\"iterations\":"u8;

    // The envelope's JSON written directly (ids and numbers need no escaping). Tests read it back as TaskEnvelope.
    private static int WriteEnvelope(Span<byte> to, string batch, int index, long iterations, byte[] tail)
    {
        int at = 0;
        IdOpen.CopyTo(to);
        at += IdOpen.Length;
        at += Encoding.ASCII.GetBytes(batch, to[at..]);
        to[at++] = (byte)'-';
        index.TryFormat(to[at..], out int written, default, CultureInfo.InvariantCulture);
        at += written;
        IterationsKey.CopyTo(to[at..]);
        at += IterationsKey.Length;
        iterations.TryFormat(to[at..], out written, default, CultureInfo.InvariantCulture);
        at += written;
        tail.CopyTo(to[at..]);
        return at + tail.Length;
    }

    private static int WritePlain(Span<byte> to, long iterations)
    {
        iterations.TryFormat(to, out int written, default, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>
    /// The ids of an enqueue, {batch}-{index}, made when read: a million id strings cost as much as the enqueue itself,
    /// and most callers read a few (the API reports them as batch runs).
    /// </summary>
    private sealed class BatchTaskIds(string[] batches, int count) : IReadOnlyList<string>
    {
        public int Count => count;

        public string this[int index] =>
            (uint)index < (uint)count
                ? batches[index / BatchSize] + "-" + (index % BatchSize).ToString(CultureInfo.InvariantCulture)
                : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<string> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Plain entries carry no id: an empty string for each.</summary>
    private sealed class PlainIds(int count) : IReadOnlyList<string>
    {
        public int Count => count;

        public string this[int index] => (uint)index < (uint)count ? "" : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<string> GetEnumerator() => Enumerable.Repeat("", count).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
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
        string cause = inner switch
        {
            OperationCanceledException => "The enqueue was cancelled part-way",
            ReplicaAcknowledgeException => "Too few replicas acknowledged the enqueue",
            _ => "Redis failed part-way through the enqueue",
        };
        string maybe = inner is ReplicaAcknowledgeException
            ? "were stored by the primary but not acknowledged by enough replicas, and may be lost in a failover"
            : "were sent but not confirmed, and may have landed if Redis answered late";
        return $"{cause}: {enqueued.Count.ToString("N0", c)} of {total.ToString("N0", c)} task(s) were enqueued{which}" +
               (unconfirmed > 0 ? $"; {unconfirmed.ToString("N0", c)} more {maybe}" : "") +
               $"; the other {(total - enqueued.Count - unconfirmed).ToString("N0", c)} were not enqueued" + inner switch
               {
                   OperationCanceledException => ".",
                   ReplicaAcknowledgeException r => $". {r.Message}",
                   TimeoutException => " (Redis did not reply in time).",
                   RedisConnectionException => " (the connection to Redis failed).",
                   _ => $" ({inner.GetType().Name}).",
               };
    }
}
