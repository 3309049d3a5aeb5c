using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>What counts as Redis failing a command, as opposed to a bug or the caller giving up.</summary>
public static class RedisFailure
{
    /// <summary>
    /// StackExchange.Redis fails a command with a <see cref="RedisException"/> or a <see cref="TimeoutException"/>, and,
    /// when it fails one without an exception of its own (a result box given none), with a cancelled task. A
    /// cancellation the caller asked for through <paramref name="callerToken"/> is not a Redis failure.
    /// </summary>
    public static bool Is(Exception ex, CancellationToken callerToken = default) =>
        ex is RedisException or TimeoutException || ex is OperationCanceledException && !callerToken.IsCancellationRequested;
}
