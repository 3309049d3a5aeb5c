namespace PiOps.Web.Workloads;

/// <summary>
/// The workloads PiOps operates, one model for both runtimes: the local runtime (worker processes on this machine)
/// and the Kubernetes API. Pages render these records only and act through this interface: the guard over
/// <see cref="WorkloadActions"/> over the runtime's <see cref="IWorkloadBackend"/>.
/// </summary>
public interface IWorkloadRuntime
{
    // Every change takes "by", who asks for it, passed on to the backend's calls: the guard gives its signed-in user;
    // null is the dashboard itself.

    /// <summary>What the UI shows as the place workloads run, e.g. "local runtime (processes on this machine)".</summary>
    string Description { get; }

    bool IsLocal { get; }

    WorkloadSnapshot Current { get; }

    /// <summary>
    /// What the pods of the Jobs and CronJobs this runtime creates are given (image, REDIS_HOST and REDIS_PORT, the
    /// queue, PiOps' label): on a cluster Kubernetes:WorkerImage and Kubernetes:RedisHost; locally the book's image and
    /// this Redis.
    /// </summary>
    PodSettings Pod { get; }

    /// <summary>The Job this runtime would create for <paramref name="spec"/>, as YAML (the Jobs page's preview).</summary>
    string JobManifest(JobSpec spec) => JobYaml.Render(Manifests.Job(spec, Pod));

    /// <summary>The CronJob this runtime would create for <paramref name="spec"/>, as YAML (the CronJobs page's preview).</summary>
    string CronJobManifest(CronJobSpec spec) => CronJobYaml.Render(Manifests.CronJob(spec, Pod));

    /// <summary>Called after every change. Dispose to stop. Handlers must return quickly.</summary>
    IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged);

    /// <summary>Sets the workers Deployment's desired replicas (kubectl scale deployment/pi-worker --replicas=N).</summary>
    Task ScaleAsync(int replicas, Actor? by = null);

    /// <summary>Creates a Job (kubectl create -f job.yaml); a Job of that name must not exist.</summary>
    Task CreateJobAsync(JobSpec spec, Actor? by = null);

    /// <summary>Creates a Job from pasted YAML (kubectl create -f job.yaml): a batch/v1 Job; returns its name.</summary>
    Task<string> CreateJobFromYamlAsync(string yaml, Actor? by = null);

    /// <summary>Deletes a Job and its pods (kubectl delete job NAME; its pods go too).</summary>
    Task DeleteJobAsync(string name, Actor? by = null);

    /// <summary>The book's re-run, done safely: delete the Job, wait until it is gone, create it again from its spec.</summary>
    Task RerunJobAsync(string name, Actor? by = null);

    /// <summary>Creates a CronJob (kubectl create -f cronjob.yaml); a CronJob of that name must not exist.</summary>
    Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null);

    /// <summary>
    /// Changes a CronJob's schedule, time zone, policy, limits and deadline (kubectl patch cronjob NAME); its Jobs and
    /// status stay. The name and the Job template stay as they were. An edit carries the version it was made from
    /// (<see cref="CronJobSpec.ResourceVersion"/>) and <paramref name="openedOn"/>, the spec the form showed then: a
    /// newer version whose spec is still that one moved only in its status (a run started or ended), and the edit is
    /// saved onto it; a newer spec is someone else's change, and the edit is refused as stale.
    /// </summary>
    Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null, Actor? by = null);

    /// <summary>Suspends or resumes a CronJob (kubectl patch cronjob NAME -p '{"spec":{"suspend":true}}').</summary>
    Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null);

    /// <summary>Deletes a CronJob and the Jobs it started, with their pods.</summary>
    Task DeleteCronJobAsync(string name, Actor? by = null);

    /// <summary>
    /// Starts a Job from the CronJob's template now (kubectl create job NAME-manual-XXXXX --from=cronjob/NAME), even
    /// when it is suspended, as kubectl does. Returns the new Job's name.
    /// </summary>
    Task<string> RunCronJobNowAsync(string name, Actor? by = null);

    /// <summary>
    /// Sets the autoscaler of the workers Deployment (kubectl autoscale / kubectl apply -f hpa.yaml). As with
    /// <see cref="UpdateCronJobAsync"/>, <paramref name="openedOn"/> lets an edit survive the autoscaler's own status
    /// updates (every scaling, and on a cluster every change of a metric, is a new resourceVersion).
    /// </summary>
    Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null, Actor? by = null);
}

/// <param name="Autoscaler">The workers' autoscaler; null when there is none.</param>
public sealed record WorkloadSnapshot(
    DateTimeOffset At,
    DeploymentView Workers,
    IReadOnlyList<JobView> Jobs,
    IReadOnlyList<CronJobView> CronJobs,
    AutoscalerView? Autoscaler)
{
    /// <summary>The namespace these objects are in (a pod's log is addressed by it); null on the local runtime.</summary>
    public string? Namespace { get; init; }

    public static WorkloadSnapshot Empty { get; } = new(DateTimeOffset.MinValue, new DeploymentView("pi-worker", 0, 0, 0, []), [], [], null);
}

/// <summary>The workers Deployment: desired, ready and available replicas, and its pods.</summary>
public sealed record DeploymentView(string Name, int Desired, int Ready, int Available, IReadOnlyList<PodView> Pods);

/// <summary>
/// One pod. Phase follows Kubernetes: Pending, Running, Succeeded, Failed; Terminating while it stops. Ready once its
/// process has run a moment; Restarts counts crashes restarted in place (with back-off, as kubelet does).
/// </summary>
public sealed record PodView(
    string Name,
    string Phase,
    bool Ready,
    int Restarts,
    DateTimeOffset StartedAt,
    double CpuPercent,
    long MemoryBytes,
    string Host,
    int? Pid,
    string? Note)
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    /// <summary>The pod's labels, for label selectors (e.g. tailing the logs of `-l pod=pi`).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = NoLabels;

    /// <summary>What happened to the pod (scheduling, pulls, restarts, exits), most recent first, bounded.</summary>
    public IReadOnlyList<ObjectEvent> Events { get; init; } = [];

    /// <summary>The pod's worker is running a task (from its heartbeat).</summary>
    public bool Busy { get; init; }

    /// <summary>Which pod a scale-down removes first (1), second (2), …; null where the runtime cannot say.</summary>
    public int? ScaleDownRank { get; init; }

    /// <summary>The pod's containers by name, as its spec lists them (the worker's, and any sidecar).</summary>
    public IReadOnlyList<string> Containers { get; init; } = [];

    /// <summary>Why CPU and memory are not known (e.g. "no metrics server"), shown in their place; null when they are.</summary>
    public string? UsageNote { get; init; }

    /// <summary>CPU used in millicores and the pod's CPU request, where the runtime measures them so (Kubernetes).</summary>
    public double? CpuMillicores { get; init; }

    public double? CpuRequestMillicores { get; init; }

    public int Warnings => ObjectEvent.WarningsIn(Events);
}

/// <summary>
/// An event about one object, as `kubectl describe` lists them: when it last happened, Normal or Warning, the reason
/// (BackoffLimitExceeded, FailedScheduling, BackOff, ...), the message, and how many times it happened.
/// </summary>
public sealed record ObjectEvent(DateTimeOffset At, string Type, string Reason, string Message, int Count)
{
    public const string Normal = "Normal";

    public const string Warning = "Warning";

    /// <summary>The most events a view carries: the most recent ones.</summary>
    public const int Limit = 10;

    public bool IsWarning => Type == Warning;

    /// <summary>The most recent <see cref="Limit"/> events, most recent first.</summary>
    public static IReadOnlyList<ObjectEvent> Recent(IEnumerable<ObjectEvent> events) =>
        [.. events.OrderByDescending(e => e.At).Take(Limit)];

    /// <summary>How many of the events shown are Warnings: the badge on a row.</summary>
    public static int WarningsIn(IReadOnlyList<ObjectEvent> events) => events.Count(e => e.IsWarning);
}
