using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A producer for the high-availability runs: enqueues batches of tiny tasks one after another while Redis fails over,
/// reshards or restarts, and keeps exactly the ids the producer reported as acknowledged: all of a call that returned,
/// the enqueued part of one that failed midway (<see cref="EnqueueIncompleteException"/>), none of one that failed.
/// </summary>
public sealed class AcknowledgedProducer(TaskProducer producer, int batch, TimeSpan pace)
{
    private readonly List<string> _acknowledged = [];
    private int _calls;
    private int _failedCalls;
    private int _unconfirmed;

    /// <summary>Ids acknowledged so far (a copy).</summary>
    public IReadOnlyList<string> Acknowledged
    {
        get
        {
            lock (_acknowledged)
            {
                return [.. _acknowledged];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_acknowledged)
            {
                return _acknowledged.Count;
            }
        }
    }

    /// <summary>Enqueue calls made, failed or not.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Calls that failed in whole or in part, and were followed by another.</summary>
    public int FailedCalls => Volatile.Read(ref _failedCalls);

    /// <summary>Tasks the primary took without enough replicas acknowledging them (not counted as acknowledged).</summary>
    public int Unconfirmed => Volatile.Read(ref _unconfirmed);

    /// <summary>What the first enqueue that too few replicas acknowledged said, as a producer reads it.</summary>
    public string? FirstRefusal { get; private set; }

    /// <summary>Counts ids acknowledged elsewhere (a first batch enqueued before the run) with these.</summary>
    public void Add(IEnumerable<string> ids)
    {
        lock (_acknowledged)
        {
            _acknowledged.AddRange(ids);
        }
    }

    /// <summary>
    /// Enqueues while <paramref name="keepGoing"/> says so. <paramref name="beforeCall"/> runs before each call (a test
    /// holding the producer at a point); <paramref name="afterFailure"/> after a call that Redis failed as a whole (a
    /// wait for a primary to answer again).
    /// </summary>
    public async Task RunAsync(Func<bool> keepGoing, Func<Task>? beforeCall = null, Func<Task>? afterFailure = null)
    {
        // A rate, not a wait for something: at most one call per tick when paced.
        using var ticks = pace > TimeSpan.Zero ? new PeriodicTimer(pace) : null;
        while (keepGoing())
        {
            if (beforeCall is not null)
            {
                await beforeCall();
            }

            try
            {
                Add(await producer.EnqueueAsync(Enumerable.Repeat(1_000L, batch).ToArray()));
            }
            catch (EnqueueIncompleteException ex)
            {
                if (ex.InnerException is ReplicaAcknowledgeException)
                {
                    FirstRefusal ??= ex.Message;
                }
                Add(ex.Enqueued);
                Interlocked.Add(ref _unconfirmed, ex.Unconfirmed);
                Interlocked.Increment(ref _failedCalls);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Interlocked.Increment(ref _failedCalls);
                if (afterFailure is not null)
                {
                    await afterFailure();
                }
            }

            Interlocked.Increment(ref _calls);
            if (ticks is not null)
            {
                await ticks.WaitForNextTickAsync();
            }
        }
    }

    /// <summary>
    /// For <see cref="RunAsync"/>'s afterFailure when there is no primary: returns once one answers a PING (after the
    /// failover), failing after a minute.
    /// </summary>
    public static Task UntilAPrimaryAnswersAsync(IConnectionMultiplexer client) =>
        Eventually.WaitAsync(async () =>
        {
            try
            {
                await client.GetDatabase().PingAsync();
                return true;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "a primary answering after the failover");
}
