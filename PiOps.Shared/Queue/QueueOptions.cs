namespace PiOps.Shared.Queue;

/// <summary>How the task queue is laid out in Redis and what it accepts. Shared by producers, workers and the dashboard.</summary>
public sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>The list producers RPUSH onto; every other key of the protocol starts with this name.</summary>
    public string QueueName { get; set; } = "queue:task";

    /// <summary>The largest n a task may ask for; larger ones are dead-lettered, not run. 10^11 is about 100 s of work.</summary>
    public long MaxIterations { get; set; } = 100_000_000_000;

    /// <summary>Deliveries of one task before it is dead-lettered: a task whose worker died this many times is poison.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>A raw queue entry larger than this is dead-lettered unread.</summary>
    public int MaxEntryBytes { get; set; } = 64 * 1024;

    /// <summary>A worker whose heartbeat is older than this is dead and its in-flight task is recovered.</summary>
    public TimeSpan HeartbeatTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How many recent results are kept.</summary>
    public int ResultsToKeep { get; set; } = 1000;

    /// <summary>How long a task's status record lives after its last change.</summary>
    public TimeSpan StatusTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Format PiOps producers write: envelopes carry an id and attempts; plain integers are what the book's own worker reads.</summary>
    public EntryFormat ProducerFormat { get; set; } = EntryFormat.Envelope;

    /// <summary>
    /// REDIS_WAIT_REPLICAS: an enqueue, and a worker's stored results, count as done only once this many replicas
    /// have them (Redis WAIT). 0, the default, acknowledges what the primary has, as before.
    /// </summary>
    public int WaitReplicas { get; set; }

    /// <summary>REDIS_WAIT_TIMEOUT_MS: how long WAIT may take before the write is reported as not acknowledged.</summary>
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest replica wait allowed: a second under the client's command timeout.</summary>
    public const int MaxWaitTimeoutMs = 4000;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(QueueName) || QueueName.Length > 200)
        {
            yield return "Queue name must be 1 to 200 characters.";
        }
        else if (!QueueKeys.HasHashTag(QueueName) && QueueName.Contains('}'))
        {
            // Its other keys could not be given the list's Redis Cluster slot (QueueKeys.Prefix).
            yield return $"Queue name '{QueueName}' has a '}}' outside a hash tag: use a name without braces, or one with a tag such as '{{jobs}}'.";
        }

        if (MaxIterations < 0)
        {
            yield return $"Maximum iterations must be 0 or more (got {MaxIterations}).";
        }

        if (MaxIterations > LeibnizLimits.AbsoluteMaxIterations)
        {
            yield return $"Maximum iterations must be at most {LeibnizLimits.AbsoluteMaxIterations} (got {MaxIterations}).";
        }

        if (MaxAttempts is < 1 or > 100)
        {
            yield return $"Maximum attempts must be from 1 to 100 (got {MaxAttempts}).";
        }

        if (MaxEntryBytes is < 64 or > 16 * 1024 * 1024)
        {
            yield return $"Maximum entry size must be from 64 bytes to 16 MiB (got {MaxEntryBytes}).";
        }

        if (HeartbeatTtl < TimeSpan.FromSeconds(2) || HeartbeatTtl > TimeSpan.FromSeconds(30))
        {
            yield return $"Heartbeat expiry must be from 2 to 30 seconds (got {HeartbeatTtl.TotalSeconds} s).";
        }

        if (ResultsToKeep is < 1 or > 1_000_000)
        {
            yield return $"Results to keep must be from 1 to 1,000,000 (got {ResultsToKeep}).";
        }

        if (WaitReplicas is < 0 or > 100)
        {
            yield return $"Replicas to wait for (REDIS_WAIT_REPLICAS) must be from 0 to 100 (got {WaitReplicas}).";
        }

        // WAIT holds the connection it runs on: it must end well inside the client's 5 s command timeout.
        if (WaitTimeout < TimeSpan.FromMilliseconds(10) || WaitTimeout > TimeSpan.FromMilliseconds(MaxWaitTimeoutMs))
        {
            yield return $"The replica wait (REDIS_WAIT_TIMEOUT_MS) must be from 10 to {MaxWaitTimeoutMs} ms, under the 5 s " +
                         $"command timeout (got {WaitTimeout.TotalMilliseconds:0} ms).";
        }

        if (StatusTtl < TimeSpan.FromMinutes(1))
        {
            yield return $"Task status expiry must be at least a minute (got {StatusTtl}).";
        }
    }
}

public enum EntryFormat
{
    /// <summary>{"id":..,"iterations":..,"enqueuedAt":..,"attempt":..}</summary>
    Envelope,

    /// <summary>A bare integer, as `redis-cli RPUSH queue:task 5000000` and the book's add_tasks.py write.</summary>
    Plain,
}

public static class LeibnizLimits
{
    /// <summary>Where the series' denominators stop being exact in a double; no configuration may go past it.</summary>
    public const long AbsoluteMaxIterations = 1L << 50;
}
