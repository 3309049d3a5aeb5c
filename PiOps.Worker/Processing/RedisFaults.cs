using StackExchange.Redis;

namespace PiOps.Worker.Processing;

/// <summary>Which Redis errors mean "Redis is away for now" (wait and retry) rather than a bug.</summary>
public static class RedisFaults
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        // Too few replicas acknowledged a store in time: retried like an outage, and the retry is safe (the scripts skip
        // what is stored already).
        RedisConnectionException or PiOps.Shared.Redis.ReplicaAcknowledgeException => true,
        // The client's own timeouts (RedisTimeoutException), and the worker's guard on a round trip that neither
        // answered nor timed out.
        TimeoutException => true,
        // StackExchange.Redis cancels the commands of a connection it tears down (seen when a partition healed, from a
        // heartbeat's SET): the command did not run, or ran and its reply is lost, as in any outage. Taken for a bug,
        // it stopped the worker's host. The worker's own stop is seen by its loops, not through this.
        OperationCanceledException => true,
        // StackExchange.Redis writing a command to a connection it is tearing down (seen when redis-server was SIGKILLed
        // mid-run: "Writing is not allowed after writer was completed" from its pipe): the command did not go out, as
        // in any outage. Taken for a bug, it stopped the worker.
        InvalidOperationException io when io.StackTrace?.Contains("StackExchange.Redis.PhysicalConnection", StringComparison.Ordinal) == true => true,
        RedisServerException s => s.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || s.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || s.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || s.Message.StartsWith("READONLY", StringComparison.Ordinal),
        ObjectDisposedException => false,
        AggregateException a => a.InnerExceptions.All(IsTransient),
        _ => false,
    };

    /// <summary>0.5 s, 1 s, 2 s ... up to 10 s.</summary>
    public static TimeSpan Backoff(int attempt) => PiOps.Shared.Redis.RedisConnector.Backoff(attempt);
}
