namespace PiOps.Web.Workloads;

/// <summary>
/// What every pod PiOps creates is given: the image, the Redis and queue of the workers, and PiOps' label. A runtime
/// renders its Jobs, CronJobs and their previews from one of these, so a preview shows what is created.
/// </summary>
public sealed record PodSettings(string Image, string RedisHost, string RedisPort, string QueueName, string LabelKey, string LabelValue)
{
    /// <summary>
    /// How the pods reach Redis. On a cluster, the workers Deployment's (<see cref="WorkerConnection"/>); null, as for the
    /// local runtime's previews, is REDIS_HOST and REDIS_PORT from <see cref="RedisHost"/> and <see cref="RedisPort"/>.
    /// </summary>
    public WorkerConnection? Connection { get; init; }

    /// <summary>The connection the pods get: <see cref="Connection"/>, or the host and port.</summary>
    public WorkerConnection Redis => Connection ?? WorkerConnection.HostAndPort(RedisHost, RedisPort);

    /// <summary>The book's worker image: the chart's default, and what the local runtime's previews name.</summary>
    public const string BookImage = "piops-worker:0.1.0";

    /// <summary>The label PiOps puts on what it creates (the chart's Job templates carry it too), as key=value.</summary>
    public const string ManagedLabel = "piops.io/managed=true";

    /// <summary>
    /// Pods as the book's chart would get them, with this Redis and queue: what a runtime without a cluster shows in its
    /// previews.
    /// </summary>
    public static PodSettings Book(string redisHost, string redisPort, string queueName)
    {
        int eq = ManagedLabel.IndexOf('=', StringComparison.Ordinal);
        return new PodSettings(BookImage, redisHost, redisPort, queueName, ManagedLabel[..eq], ManagedLabel[(eq + 1)..]);
    }
}
