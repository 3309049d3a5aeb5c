using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using PiOps.Shared.Processes;
using PiOps.Shared.Queue;
using PiOps.Web.Configuration;
using PiOps.Web.HighAvailability;
using PiOps.Web.Logs;
using PiOps.Web.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>
/// The embedded default's workloads: PiOps.Worker child processes with the semantics of the book's Deployment, Jobs,
/// CronJobs and HPA. It keeps the desired number of pods, restarts a crashed one in place with kubelet's doubling
/// back-off, and scales down with SIGTERM, the grace period, then SIGKILL; it runs Jobs as the Job controller does,
/// starts them on schedule as the CronJob controller does, and scales the Deployment as the HPA does. Definitions
/// survive a restart of the dashboard; the processes do not (each worker also stops by itself once the dashboard is
/// gone).
/// </summary>
public sealed partial class LocalRuntime(
    IOptions<LocalRuntimeOptions> options,
    IOptions<EmbeddedOptions> embedded,
    IOptions<DashboardOptions> dashboard,
    IOptions<LogOptions> logs,
    IOptions<QueueOptions> queue,
    RedisConnection redis,
    IQueueState queueState,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<LocalRuntime> log,
    DashboardLeases leases) : BackgroundService, IWorkloadBackend, IPodLogSource
{
    public const string DeploymentName = "pi-worker";

    // Of several dashboard replicas on one Redis, only the holders of these leases scale the workers and start
    // CronJobs' runs (docs/high-availability.md).
    private readonly RedisLease _autoscalerLease = leases.For(DashboardLeases.LocalAutoscaler);
    private readonly RedisLease _cronJobsLease = leases.For(DashboardLeases.LocalCronJobs);

    private readonly LocalRuntimeOptions _o = options.Value;
    private readonly object _gate = new();
    private readonly List<LocalPod> _pods = [];
    private readonly List<LocalJob> _jobs = [];
    private readonly List<LocalCronJob> _cronJobs = [];
    private readonly LocalAutoscaler _autoscaler = new(AutoscalerSpec.Book);
    private readonly AutoscalerHistory _history = new(dashboard.Value.History);
    private readonly Subscribers<WorkloadSnapshot> _subscribers = new();
    private readonly string _templateHash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..10];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _desired = -1;
    private volatile WorkloadSnapshot _current = WorkloadSnapshot.Empty;
    private string? _problem;

    public string Description => "local runtime (worker processes on this machine)";

    public bool IsLocal => true;

    public WorkloadSnapshot Current => _current;

    public string? Namespace => null;

    /// <summary>
    /// What a Job's pods would be given on a cluster, for previews: the book's image, this runtime's Redis and queue, and
    /// the chart's (and the Kubernetes runtime's default) managed label.
    /// </summary>
    public PodSettings Pod
    {
        get
        {
            var (host, port, _) = WorkerRedis();
            return PodSettings.Book(host, port.ToString(CultureInfo.InvariantCulture), queue.Value.QueueName);
        }
    }

    public (int Max, string Setting) ReplicaCap => (_o.MaxReplicas, "LocalRuntime:MaxReplicas");

    /// <summary>The Deployment's pods and every Job's pods. Read under the lock.</summary>
    private IEnumerable<LocalPod> AllPods => _pods.Concat(_jobs.SelectMany(j => j.Pods.Select(p => p.Pod)));

    private string StateFile => Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "workloads.json");

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    public Task ScaleAsync(int replicas, Actor? by = null)
    {
        lock (_gate)
        {
            _desired = replicas;
        }

        SaveState(replicas);
        Wake();
        return Task.CompletedTask;
    }

    public IReadOnlyList<LogLine> Logs(string podName)
    {
        lock (_gate)
        {
            return AllPods.FirstOrDefault(p => p.Name == podName)?.Logs() ?? [];
        }
    }

    /// <summary>A pod's output: its last lines, then each new one, until cancelled (the tailer closes it when nobody watches).</summary>
    public async IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The local runtime has no namespaces: a pod is its name.
        LocalPod? found;
        lock (_gate)
        {
            found = AllPods.FirstOrDefault(p => p.Name == pod.Name);
        }

        if (found is null)
        {
            throw new LogStreamException($"There is no pod {pod.Name}: it ended and was removed, or the name is wrong.");
        }

        if (pod.Container is { } container && container != Workloads.Manifests.ContainerName)
        {
            // The API server's words for a container the pod does not have (pkg/registry/core/pod/strategy.go).
            throw new LogStreamException($"container {container} is not valid for pod {pod.Name}: a local pod has the one container {Workloads.Manifests.ContainerName}.");
        }

        var channel = LogChannel.Create();
        var (tail, subscription) = found.Follow(tailLines, line => channel.Writer.TryWrite(line));
        using (subscription)
        {
            foreach (var line in tail)
            {
                yield return line;
            }

            await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return line;
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before anything can call in: ExecuteAsync starts on a pool thread, and a Job created or a scale set before it
        // ran would otherwise be overwritten (or duplicated) by the saved state.
        lock (_gate)
        {
            _desired = LoadState() ?? _o.InitialReplicas;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Reconcile();
                await PublishAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One bad turn (a process gone between two looks, a file that cannot be written) must not stop the
                // runtime: log it and reconcile again on the next turn.
                log.LogError(ex, "Reconciling the local runtime failed; trying again");
            }

            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The dashboard is stopping: every pod gets SIGTERM, a short grace, then SIGKILL. The saved desired count stays.
        List<LocalPod> pods;
        lock (_gate)
        {
            pods = [.. AllPods];
        }

        foreach (var pod in pods.Where(p => p.IsRunning))
        {
            Signal(pod, PosixSignals.Term);
        }

        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(15, _o.GracePeriod.TotalSeconds));
        while (pods.Any(p => p.IsRunning) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(100, CancellationToken.None);
        }

        foreach (var pod in pods.Where(p => p.IsRunning))
        {
            pod.KillNow();
        }
    }

    private void Reconcile()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            // Any pod past its grace period is killed: scaled down, of a deleted Job, or of a Job that finished or
            // failed while others still ran. One pass for all, so no stop path can forget the SIGKILL.
            foreach (var pod in AllPods.Where(p => p.KillAt is { } at && at <= now && p.IsRunning))
            {
                log.LogWarning("Pod {Pod} did not stop within the grace period: killing it", pod.Name);
                pod.Events.Warning(now, "Killing", "The worker process did not stop within the grace period: SIGKILL");
                pod.KillNow();
            }

            // Deployment pods that finished stopping go away, and so do their folders.
            if (_pods.RemoveAll(p => p.KillAt is not null && !p.IsRunning) > 0)
            {
                _sweepPodFolders = true;
            }

            // Crashed pods restart in place, after a back-off that doubles with each restart (kubelet's CrashLoopBackOff).
            foreach (var pod in _pods.Where(p => p.KillAt is null && !p.IsRunning))
            {
                if (pod.RestartAt is null)
                {
                    var delay = BackOff(pod.Restarts);
                    pod.RestartAt = now + delay;
                    pod.Events.Warning(now, "BackOff", $"Back-off restarting the worker process, which exited with code {pod.ExitCode}");
                    log.LogWarning("Pod {Pod} exited with {Code}; restarting in {Delay:F0} s", pod.Name, pod.ExitCode, delay.TotalSeconds);
                }
                else if (pod.RestartAt <= now)
                {
                    pod.Restarts++;
                    TryStart(pod);
                }
            }

            var active = _pods.Where(p => p.KillAt is null).ToList();
            for (int i = active.Count; i < _desired; i++)
            {
                var pod = new LocalPod($"{DeploymentName}-{_templateHash}-{WorkloadNames.RandomSuffix()}", logs.Value.LinesPerPod, time, WorkerPodLabels);
                _pods.Add(pod);
                TryStart(pod);
            }

            // Scale down: idle workers first, then newest first, as a ReplicaSet does with pod-deletion-cost (busy pods
            // cost more); each with SIGTERM and the grace period.
            foreach (var pod in ScaleDownOrder(active).Take(Math.Max(0, active.Count - _desired)))
            {
                BeginStop(pod, now);
            }

            ReconcileJobs(now);
            ReconcileCronJobs(now);
            if (_sweepPodFolders)
            {
                _sweepPodFolders = false;
                SweepPodFolders();
            }
            foreach (var pod in AllPods)
            {
                pod.Sample();
            }

            Autoscale(now);
        }
    }

    /// <summary>
    /// The order in which a scale-down removes the Deployment's pods: those whose worker is running a task (from its
    /// heartbeat, where the pod's name is the worker's host) last; otherwise newest first.
    /// </summary>
    private IEnumerable<LocalPod> ScaleDownOrder(IEnumerable<LocalPod> active)
    {
        var busy = BusyPods();
        return active.OrderBy(p => busy.Contains(p.Name)).ThenByDescending(p => p.StartedAt);
    }

    private HashSet<string> BusyPods() =>
        queueState.Current.Workers.Where(w => !w.Lost && w.CurrentTask is not null).Select(w => w.Host).ToHashSet(StringComparer.Ordinal);

    // At start, and whenever pods or Jobs went away: the folders of pods that no longer exist.
    private bool _sweepPodFolders = true;

    /// <summary>
    /// Removes the working folders (data/pods/NAME: the liveness file) of pods the runtime no longer has, so they do not
    /// pile up across scale-downs, Jobs and restarts. A pod's lines live in memory with the pod, not in its folder.
    /// </summary>
    private void SweepPodFolders()
    {
        string root = Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "pods");
        if (!Directory.Exists(root))
        {
            return;
        }

        var live = AllPods.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in Directory.EnumerateDirectories(root).Where(f => !live.Contains(Path.GetFileName(f))))
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException ex)
            {
                log.LogDebug("Could not remove the folder of a gone pod {Folder}: {Message}", folder, ex.Message);
            }
            catch (UnauthorizedAccessException ex)
            {
                log.LogDebug("Could not remove the folder of a gone pod {Folder}: {Message}", folder, ex.Message);
            }
        }
    }

    private async Task PublishAsync()
    {
        var now = time.GetUtcNow();
        WorkloadSnapshot snapshot;
        lock (_gate)
        {
            var busy = BusyPods();
            var order = ScaleDownOrder(_pods.Where(p => p.KillAt is null)).Select((p, i) => (p.Name, Rank: i + 1)).ToDictionary(x => x.Name, x => x.Rank);
            var pods = _pods.Select(p => View(p, now) with { Busy = busy.Contains(p.Name), ScaleDownRank = order.GetValueOrDefault(p.Name) is > 0 and var r ? r : null })
                .OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            int ready = pods.Count(p => p.Ready);
            // A deleted Job is shown (Deleting) until it is really gone, so its name is free once the snapshot drops it.
            var jobs = _jobs.Select(j => new JobView(j.Spec,
                    j.Pods.Count(p => p.Pod.IsRunning && p.Pod.KillAt is null), j.Succeeded, j.Failed,
                    j.Deleting ? "Deleting" : j.Condition, j.Reason, j.StartTime, j.CompletionTime,
                    j.Pods.Select(p => View(p.Pod, now) with { Phase = JobPodPhase(j, p.Pod) }).ToList(), j.CronJob)
                {
                    Events = j.Events.Recent(),
                })
                .OrderByDescending(j => j.StartTime).ToList();
            var cronJobs = _cronJobs.Select(c => new CronJobView(c.Spec, c.CreatedAt, c.LastScheduleTime, c.LastSuccessfulTime,
                    _jobs.Where(j => j.CronJob == c.Spec.Name && !j.Deleting && j.Condition is null).Select(j => j.Spec.Name).ToList(), c.LastEvent)
                {
                    ResourceVersion = c.Version.ToString(CultureInfo.InvariantCulture),
                })
                .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            var a = _autoscaler;
            var autoscaler = new AutoscalerView(a.Spec, "local autoscaler", pods.Count(p => p.Phase != "Terminating"),
                Math.Max(0, _desired), a.CpuPercent, a.QueueLength, a.LastScaleTime,
                a.Spec.Enabled ? a.Status : "Off: the Deployment keeps the replicas it is scaled to.", a.LastEvent, _history.Points)
            {
                ResourceVersion = a.Version.ToString(CultureInfo.InvariantCulture),
            };
            snapshot = new WorkloadSnapshot(now, new DeploymentView(DeploymentName, Math.Max(0, _desired), ready, ready, pods), jobs, cronJobs, autoscaler);
        }

        // Taken every 500 ms with a new time: the subscribers hear of it only when something else changed.
        var previous = _current;
        _current = snapshot;
        if (!snapshot.SameContent(previous))
        {
            _subscribers.Publish(snapshot, log);
        }
    }

    private PodView View(LocalPod p, DateTimeOffset now)
    {
        bool running = p.IsRunning;
        string phase = p.KillAt is not null ? "Terminating"
            : running ? "Running"
            : p.Process is null ? "Pending"
            : "CrashLoopBackOff";
        string? note = phase switch
        {
            "CrashLoopBackOff" => $"exited with {p.ExitCode}; restarting {(p.RestartAt is { } at ? "in " + Math.Max(0, (at - now).TotalSeconds).ToString("0", CultureInfo.InvariantCulture) + " s" : "soon")}" + LastError(p),
            "Pending" => _problem,
            _ => null,
        };
        bool ready = running && p.KillAt is null && now - p.StartedAt > TimeSpan.FromSeconds(1);
        return new PodView(p.Name, phase, ready, p.Restarts, p.StartedAt, Math.Round(p.CpuPercent, 1), p.MemoryBytes,
            Environment.MachineName, running ? p.Process!.Id : null, note)
        {
            Labels = p.Labels,
            Events = p.Events.Recent(),
            Containers = [Workloads.Manifests.ContainerName],
        };
    }

    /// <summary>The book's Deployment labels its pods pod=pi; the chart's workers Deployment does the same.</summary>
    private static readonly IReadOnlyDictionary<string, string> WorkerPodLabels = new Dictionary<string, string> { ["pod"] = "pi", ["app.kubernetes.io/component"] = "worker" };

    // The first line of what the pod last wrote to stderr: usually the reason it crashed.
    private static string LastError(LocalPod p)
    {
        var logs = p.Logs();
        var firstOfLastBurst = logs.Reverse().TakeWhile(l => l.Error).LastOrDefault();
        return firstOfLastBurst is null ? "" : ": " + (firstOfLastBurst.Text.Length > 200 ? firstOfLastBurst.Text[..200] + "…" : firstOfLastBurst.Text);
    }
}
