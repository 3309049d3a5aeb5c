using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>
/// Redis WAIT after our own writes: a write counts as acknowledged only once the given number of replicas have it, so
/// a failover to one of them keeps it (docs/high-availability.md).
/// WAIT waits for the last write of the connection it runs on. StackExchange.Redis sends every command for one server
/// over one connection, in order, so a WAIT sent right after a write, to the server that owns the write's key, covers
/// that write (and any earlier one of this process on that server). It holds that connection while it waits, which is
/// why its timeout must stay well under the command timeout.
/// </summary>
public static class ReplicaWait
{
    /// <summary>
    /// Sends WAIT at once (so it follows writes already started, on the same connection) and completes when
    /// <paramref name="replicas"/> replicas acknowledged; throws <see cref="ReplicaAcknowledgeException"/> otherwise.
    /// </summary>
    public static Task AcknowledgeAsync(IConnectionMultiplexer redis, RedisKey route, int replicas, TimeSpan timeout, string what)
    {
        if (replicas <= 0)
        {
            return Task.CompletedTask;
        }

        IServer server;
        try
        {
            server = redis.GetServer(route);
        }
        catch (InvalidOperationException ex)
        {
            // No primary connected (mid-failover): the write in front of this WAIT fails too, and its error is the one
            // callers see (AfterAsync); this one only says the write, if it ran, is not acknowledged.
            return Task.FromException(new ReplicaAcknowledgeException(what, replicas, null, timeout, null,
                new RedisConnectionException(ConnectionFailureType.UnableToConnect, ex.Message, ex)));
        }

        var reply = server.ExecuteAsync("WAIT", replicas, (long)timeout.TotalMilliseconds);
        return CheckAsync(reply, server.EndPoint, replicas, timeout, what);
    }

    /// <summary>
    /// A write and the WAIT sent behind it, as one outcome: the write's own error if it failed (so nothing was stored);
    /// a <see cref="ReplicaAcknowledgeException"/> if it succeeded but the WAIT failed in any way (stored on the primary,
    /// not acknowledged).
    /// </summary>
    public static async Task<T> AfterAsync<T>(Task<T> write, Task acknowledged)
    {
        T result = await write;
        await acknowledged;
        return result;
    }

    private static async Task CheckAsync(Task<RedisResult> reply, System.Net.EndPoint endpoint, int replicas, TimeSpan timeout, string what)
    {
        long got;
        try
        {
            got = (long)await reply;
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            throw new ReplicaAcknowledgeException(what, replicas, null, timeout, endpoint, ex);
        }

        if (got < replicas)
        {
            throw new ReplicaAcknowledgeException(what, replicas, got, timeout, endpoint, null);
        }
    }
}

/// <summary>
/// A write the primary took but that too few replicas acknowledged in time: not acknowledged, and a failover now
/// could lose it (or it may survive; no one can say).
/// </summary>
public sealed class ReplicaAcknowledgeException(string what, int wanted, long? got, TimeSpan timeout, System.Net.EndPoint? endpoint, Exception? inner)
    : RedisException(Describe(what, wanted, got, timeout, endpoint, inner), inner!)
{
    public int Wanted { get; } = wanted;

    /// <summary>Replicas that acknowledged, or null when WAIT itself got no answer.</summary>
    public long? Acknowledged { get; } = got;

    private static string Describe(string what, int wanted, long? got, TimeSpan timeout, System.Net.EndPoint? endpoint, Exception? inner)
    {
        var c = CultureInfo.InvariantCulture;
        string answered = got is { } n
            ? $"only {n.ToString(c)} of {wanted.ToString(c)} replica(s) acknowledged it within {timeout.TotalMilliseconds.ToString("0", c)} ms"
            : $"the wait for {wanted.ToString(c)} replica(s) got no answer ({inner?.Message.Split('\n')[0]})";
        string head = endpoint is null
            ? $"No primary was connected to wait for {wanted.ToString(c)} replica(s) to have {what} ({inner?.Message.Split('\n')[0]})"
            : $"The primary at {endpoint.ToString()?.Replace("Unspecified/", "")} has {what}, but {answered}";
        return head + " (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS): it is not acknowledged, and a failover now could lose it.";
    }
}
