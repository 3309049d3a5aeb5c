using k8s;
using k8s.Models;

namespace PiOps.Web.Workloads;

/// <summary>
/// How the pods of the Jobs and CronJobs PiOps creates reach Redis, taken from the workers Deployment so they connect as
/// its workers do: the container's REDIS_* entries (a Sentinel group, a password from a Secret, TLS and its CA file,
/// the WAIT settings) and the queue's rules (MAX_ITERATIONS, MAX_ATTEMPTS), each as written there (a value, or a
/// valueFrom the kubelet resolves in the Job's pod), plus the volumes and mounts that the *_FILE entries' paths lie
/// under. <see cref="Note"/> says why it is only REDIS_HOST/REDIS_PORT from the dashboard's options, when it is.
/// </summary>
public sealed record WorkerConnection(IReadOnlyList<V1EnvVar> Env, IReadOnlyList<V1Volume> Volumes, IReadOnlyList<V1VolumeMount> Mounts, string? Note)
{
    /// <summary>
    /// Entries copied from the workers: the connection, and the rules every consumer of the queue must apply alike (a
    /// Job's worker with another MAX_ATTEMPTS would dead-letter the same task at another attempt). QUEUE_NAME is not
    /// among them: it is the dashboard's own queue.
    /// </summary>
    public static bool IsCopied(string? name) =>
        name is not null && (name.StartsWith("REDIS_", StringComparison.Ordinal) || name is "MAX_ITERATIONS" or "MAX_ATTEMPTS");

    /// <summary>The book's two variables, from the dashboard's options: what a Job gets when the workers cannot be read.</summary>
    public static WorkerConnection HostAndPort(string host, string port, string? note = null) => new(
        [new V1EnvVar { Name = "REDIS_HOST", Value = host }, new V1EnvVar { Name = "REDIS_PORT", Value = port }], [], [], note);

    /// <summary>
    /// The workers' connection, from the container named <paramref name="containerName"/> (else the first); null when
    /// the Deployment has no container. Copies, so a manifest never shares objects with the cache.
    /// </summary>
    public static WorkerConnection? FromWorkers(V1Deployment workers, string containerName)
    {
        var pod = workers.Spec?.Template?.Spec;
        var container = pod?.Containers?.FirstOrDefault(c => c.Name == containerName) ?? pod?.Containers?.FirstOrDefault();
        if (container is null)
        {
            return null;
        }

        var env = (container.Env ?? []).Where(e => IsCopied(e.Name)).Select(Copy).ToList();
        // Only a path given as a value can be followed to its mount; one from valueFrom is known in the pod alone.
        var files = env.Where(e => e.Name.EndsWith("_FILE", StringComparison.Ordinal) && e.Value is { Length: > 0 } v && v.StartsWith('/'))
            .Select(e => e.Value.Trim()).ToList();
        var mounts = (container.VolumeMounts ?? [])
            .Where(m => m.MountPath is { Length: > 0 } at && files.Any(f => Under(f, at)))
            .Select(Copy).ToList();
        var names = mounts.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var volumes = (pod!.Volumes ?? []).Where(v => names.Contains(v.Name)).Select(Copy).ToList();
        return new WorkerConnection(env, volumes, mounts, null);
    }

    /// <summary>
    /// Whether the entries name a Redis: REDIS_HOST, or REDIS_SENTINELS. Workers without either take it from elsewhere
    /// (envFrom, whose ConfigMap or Secret holds more than Redis, or the image), which is not copied.
    /// </summary>
    public bool NamesRedis => Env.Any(e => e.Name is "REDIS_HOST" or "REDIS_SENTINELS");

    /// <summary>The options' REDIS_HOST and REDIS_PORT first, then these entries, with a note saying why.</summary>
    public WorkerConnection WithHostAndPort(string host, string port, string note) =>
        this with { Env = [.. HostAndPort(host, port).Env, .. Env.Where(e => e.Name is not ("REDIS_HOST" or "REDIS_PORT"))], Note = note };

    // A mount of the file itself (subPath), or of a directory it is in.
    private static bool Under(string file, string mountPath)
    {
        string dir = mountPath.TrimEnd('/');
        return file == mountPath || file == dir || file.StartsWith(dir + "/", StringComparison.Ordinal);
    }

    // By content, as the rest of a record: two reads of the same Deployment are the same connection.
    public bool Equals(WorkerConnection? other) =>
        other is not null && Note == other.Note && Json(this) == Json(other);

    public override int GetHashCode() => HashCode.Combine(Note, Json(this));

    private static string Json(WorkerConnection c) => KubernetesJson.Serialize(new object[] { c.Env, c.Volumes, c.Mounts });

    private static T Copy<T>(T item) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(item));
}
