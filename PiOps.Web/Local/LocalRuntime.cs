using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PiOps.Shared.Processes;
using PiOps.Shared.Queue;
using PiOps.Web.Configuration;
using PiOps.Web.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;
using StackExchange.Redis;

namespace PiOps.Web.Local;

/// <summary>
/// The embedded default's workloads: PiOps.Worker child processes with the semantics of the book's Deployment, Jobs,
/// CronJobs and HPA. It keeps the desired number of pods, restarts a crashed one in place with kubelet's doubling
/// back-off, and scales down with SIGTERM, the grace period, then SIGKILL; it runs Jobs as the Job controller does,
/// starts them on schedule as the CronJob controller does, and scales the Deployment as the HPA does. Definitions
/// survive a restart of the dashboard; the processes do not (each worker also stops by itself once the dashboard is
/// gone).
/// </summary>
public sealed class LocalRuntime(
    IOptions<LocalRuntimeOptions> options,
    IOptions<EmbeddedOptions> embedded,
    IOptions<QueueOptions> queue,
    RedisConnection redis,
    IQueueState queueState,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<LocalRuntime> log) : BackgroundService, IWorkloadRuntime, Logs.IPodLogSource
{
    public const string DeploymentName = "pi-worker";

    private readonly LocalRuntimeOptions _o = options.Value;
    private readonly object _gate = new();
    private readonly List<LocalPod> _pods = [];
    private readonly List<LocalJob> _jobs = [];
    private readonly List<LocalCronJob> _cronJobs = [];
    private readonly LocalAutoscaler _autoscaler = new(AutoscalerSpec.Book);
    private readonly Subscribers<WorkloadSnapshot> _subscribers = new();
    private readonly string _templateHash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..10];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _desired = -1;
    private volatile WorkloadSnapshot _current = WorkloadSnapshot.Empty;
    private string? _problem;

    public string Description => "local runtime (worker processes on this machine)";

    public bool IsLocal => true;

    public WorkloadSnapshot Current => _current;

    public (string Host, string Port) PodRedis
    {
        get
        {
            var (host, port, _) = WorkerRedis();
            return (host, port.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The Deployment's pods and every Job's pods. Read under the lock.</summary>
    private IEnumerable<LocalPod> AllPods => _pods.Concat(_jobs.SelectMany(j => j.Pods.Select(p => p.Pod)));

    private string StateFile => Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "workloads.json");

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    public Task ScaleAsync(int replicas)
    {
        if (replicas < 0 || replicas > _o.MaxReplicas)
        {
            throw new WorkloadActionException($"Replicas must be from 0 to {_o.MaxReplicas} on the local runtime (LocalRuntime:MaxReplicas); nothing was changed.");
        }

        lock (_gate)
        {
            if (_autoscaler.Spec.Enabled)
            {
                throw new WorkloadActionException($"The autoscaler sets the replicas ({_autoscaler.Spec.MinReplicas} to {_autoscaler.Spec.MaxReplicas}) and would undo this at its next look: change its minimum and maximum, or turn it off first. Nothing was changed.");
            }

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
    public async IAsyncEnumerable<LogLine> FollowAsync(string pod, int tailLines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        LocalPod? found;
        lock (_gate)
        {
            found = AllPods.FirstOrDefault(p => p.Name == pod);
        }

        if (found is null)
        {
            throw new Logs.LogStreamException($"There is no pod {pod}: it ended and was removed, or the name is wrong.");
        }

        // Bounded: a reader that cannot keep up loses the oldest lines, never the dashboard's memory.
        var channel = System.Threading.Channels.Channel.CreateBounded<LogLine>(new System.Threading.Channels.BoundedChannelOptions(10_000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest, SingleReader = true,
        });
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

    public Task CreateJobAsync(JobSpec spec)
    {
        var problems = spec.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new WorkloadActionException(string.Join(" ", problems) + " Nothing was created.");
        }

        lock (_gate)
        {
            if (_jobs.Any(j => j.Spec.Name == spec.Name))
            {
                throw new WorkloadActionException($"A Job named {spec.Name} already exists: re-run it, delete it first, or choose another name.");
            }

            _jobs.Add(new LocalJob(spec, time.GetUtcNow()));
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    /// <summary>The Job the YAML describes, as far as the local runtime can run it (the worker image's commands).</summary>
    public async Task<string> CreateJobFromYamlAsync(string yaml)
    {
        var job = JobYaml.Parse(yaml);
        var spec = Kubernetes.Manifests.ToJobSpec(job.Metadata.Name, job.Spec);
        await CreateJobAsync(spec);
        return spec.Name;
    }

    public Task DeleteJobAsync(string name)
    {
        lock (_gate)
        {
            var job = _jobs.FirstOrDefault(j => j.Spec.Name == name && !j.Deleting)
                ?? throw new WorkloadActionException($"There is no Job named {name}: it may have been deleted already.");
            job.Deleting = true;
        }

        Wake();
        return Task.CompletedTask;
    }

    public async Task RerunJobAsync(string name)
    {
        JobSpec spec;
        lock (_gate)
        {
            spec = (_jobs.FirstOrDefault(j => j.Spec.Name == name && !j.Deleting)
                ?? throw new WorkloadActionException($"There is no Job named {name} to re-run.")).Spec;
        }

        await DeleteJobAsync(name);
        // As kubectl delete then create: wait until the old Job and its pods are really gone.
        var deadline = time.GetUtcNow() + _o.GracePeriod + TimeSpan.FromSeconds(10);
        while (true)
        {
            lock (_gate)
            {
                if (!_jobs.Any(j => j.Spec.Name == name))
                {
                    break;
                }
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new WorkloadActionException($"The old Job {name} did not go away in time; it was not created again.");
            }

            await Task.Delay(100);
        }

        await CreateJobAsync(spec);
    }

    public Task CreateCronJobAsync(CronJobSpec spec)
    {
        ThrowIfInvalid(spec);
        lock (_gate)
        {
            if (_cronJobs.Any(c => c.Spec.Name == spec.Name))
            {
                throw new WorkloadActionException($"A CronJob named {spec.Name} already exists: edit it, delete it first, or choose another name.");
            }

            _cronJobs.Add(new LocalCronJob(spec, time.GetUtcNow()) { LastEvent = "Created." });
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task UpdateCronJobAsync(CronJobSpec spec)
    {
        ThrowIfInvalid(spec);
        lock (_gate)
        {
            var cron = FindCronJob(spec.Name);
            // The template stays: a CronJob's Jobs are made from the template it was created with.
            cron.Spec = spec with { JobTemplate = cron.Spec.JobTemplate };
            cron.LastEvent = $"Schedule set to \"{spec.Schedule}\"{(string.IsNullOrEmpty(spec.TimeZone) ? "" : " in " + spec.TimeZone)}.";
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task SuspendCronJobAsync(string name, bool suspend)
    {
        lock (_gate)
        {
            var cron = FindCronJob(name);
            cron.Spec = cron.Spec with { Suspend = suspend };
            cron.LastEvent = suspend ? "Suspended: no run starts until it is resumed." : "Resumed.";
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task DeleteCronJobAsync(string name)
    {
        lock (_gate)
        {
            var cron = FindCronJob(name);
            _cronJobs.Remove(cron);
            // Its Jobs go with it, as with kubectl delete cronjob (propagation through owner references).
            foreach (var job in _jobs.Where(j => j.CronJob == name))
            {
                job.Deleting = true;
            }
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task<string> RunCronJobNowAsync(string name)
    {
        string jobName;
        lock (_gate)
        {
            var cron = FindCronJob(name);
            // kubectl create job NAME --from=cronjob/CRON: a Job from the template now, whatever the schedule or suspend.
            jobName = $"{name[..Math.Min(name.Length, 63 - 13)]}-manual-{RandomSuffix()}";
            _jobs.Add(new LocalJob(cron.Spec.JobTemplate with { Name = jobName }, time.GetUtcNow(), name));
            cron.LastEvent = $"Run now: started Job {jobName}.";
        }

        SaveState();
        Wake();
        return Task.FromResult(jobName);
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec)
    {
        var problems = spec.Validate(_o.MaxReplicas).ToList();
        if (problems.Count > 0)
        {
            throw new WorkloadActionException(string.Join(" ", problems) + " Nothing was changed.");
        }

        lock (_gate)
        {
            _autoscaler.Change(spec);
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    private static void ThrowIfInvalid(CronJobSpec spec)
    {
        var problems = spec.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new WorkloadActionException(string.Join(" ", problems) + " Nothing was changed.");
        }
    }

    // Under the lock.
    private LocalCronJob FindCronJob(string name) =>
        _cronJobs.FirstOrDefault(c => c.Spec.Name == name)
        ?? throw new WorkloadActionException($"There is no CronJob named {name}: it may have been deleted.");

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

            // Deployment pods that finished stopping go away.
            _pods.RemoveAll(p => p.KillAt is not null && !p.IsRunning);

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
                var pod = new LocalPod($"{DeploymentName}-{_templateHash}-{RandomSuffix()}", _o.LogLinesPerPod, time, WorkerPodLabels);
                _pods.Add(pod);
                TryStart(pod);
            }

            // Scale down: newest first, as a ReplicaSet does, each with SIGTERM and the grace period.
            foreach (var pod in active.OrderByDescending(p => p.StartedAt).Take(Math.Max(0, active.Count - _desired)))
            {
                BeginStop(pod, now);
            }

            ReconcileJobs(now);
            ReconcileCronJobs(now);
            foreach (var pod in AllPods)
            {
                pod.Sample();
            }

            Autoscale(now);
        }
    }

    // Job semantics, as the Job controller applies them. Called under the lock.
    private void ReconcileJobs(DateTimeOffset now)
    {
        bool changed = false;
        foreach (var job in _jobs.ToList())
        {
            if (job.Deleting)
            {
                // Its pods go with it: SIGTERM, the grace period, SIGKILL; then the Job is gone.
                foreach (var (pod, _) in job.Pods.Where(p => p.Pod.IsRunning))
                {
                    BeginStop(pod, now);
                }

                if (!job.Pods.Any(p => p.Pod.IsRunning))
                {
                    _jobs.Remove(job);
                    changed = true;
                }

                continue;
            }

            if (job.Condition is not null)
            {
                continue;
            }

            var spec = job.Spec;
            foreach (var (pod, index) in job.Pods.Where(p => !job.Accounted.Contains(p.Pod) && p.Pod.Process is not null && !p.Pod.IsRunning && p.Pod.RestartAt is null).ToList())
            {
                if (pod.ExitCode == 0)
                {
                    pod.Events.Normal(now, "Completed", "The worker process exited with code 0");
                    job.Accounted.Add(pod);
                    job.Succeeded++;
                    if (index is { } i)
                    {
                        job.SucceededIndexes.Add(i);
                    }
                }
                else
                {
                    job.Failed++;
                    if (spec.RestartPolicy == JobRestartPolicy.OnFailure)
                    {
                        // The kubelet restarts the container in place, with back-off; each restart counts against the limit.
                        pod.RestartAt = now + BackOff(pod.Restarts);
                        pod.Events.Warning(now, "BackOff", $"Back-off restarting the worker process, which exited with code {pod.ExitCode}");
                    }
                    else
                    {
                        pod.Events.Warning(now, "Error", $"The worker process exited with code {pod.ExitCode}");
                        job.Accounted.Add(pod);
                    }
                }

                changed = true;
            }

            if (job.Failed > spec.BackoffLimit)
            {
                Finish(job, "Failed", $"BackoffLimitExceeded: {job.Failed} failed pod run(s), more than the backoff limit of {spec.BackoffLimit}", now);
                // The Job controller's words for it.
                job.Events.Warning(now, "BackoffLimitExceeded", "Job has reached the specified backoff limit");
                continue;
            }

            var active = job.Active.ToList();
            bool complete = spec.Indexed
                ? job.SucceededIndexes.Count >= spec.Completions
                : spec.Completions is { } c ? job.Succeeded >= c : job.Succeeded >= 1 && active.All(p => !p.Pod.IsRunning && p.Pod.RestartAt is null);
            if (complete)
            {
                Finish(job, "Complete", null, now);
                job.Events.Normal(now, "Completed", "Job completed");
                continue;
            }

            foreach (var (pod, _) in active.Where(p => p.Pod.RestartAt is { } at && at <= now))
            {
                pod.Restarts++;
                TryStart(pod, JobEnvironment(spec, job.Pods.First(p => p.Pod == pod).Index), JobArgs(spec));
            }

            int room = spec.Parallelism - active.Count;
            var toStart = new List<int?>();
            if (spec.Indexed)
            {
                var busy = active.Select(p => p.Index).ToHashSet();
                toStart.AddRange(Enumerable.Range(0, spec.Completions!.Value).Where(i => !job.SucceededIndexes.Contains(i) && !busy.Contains(i))
                    .Take(Math.Max(0, room)).Select(i => (int?)i));
            }
            else if (spec.Completions is { } completions)
            {
                toStart.AddRange(Enumerable.Repeat<int?>(null, Math.Max(0, Math.Min(room, completions - job.Succeeded - active.Count))));
            }
            else if (job.Succeeded == 0)
            {
                // Work queue: parallelism pods until one has finished the queue.
                toStart.AddRange(Enumerable.Repeat<int?>(null, Math.Max(0, room)));
            }

            foreach (var index in toStart)
            {
                string name = index is { } i ? $"{spec.Name}-{i}-{RandomSuffix()}" : $"{spec.Name}-{RandomSuffix()}";
                var pod = new LocalPod(name, _o.LogLinesPerPod, time, JobPodLabels(spec.Name, index));
                job.Pods.Add((pod, index));
                job.Events.Normal(now, "SuccessfulCreate", $"Created pod: {name}");
                TryStart(pod, JobEnvironment(spec, index), JobArgs(spec));
                changed = true;
            }
        }

        if (changed)
        {
            SaveState();
        }
    }

    // The CronJob controller's turn. Called under the lock.
    private void ReconcileCronJobs(DateTimeOffset now)
    {
        bool changed = false;
        foreach (var cron in _cronJobs)
        {
            var owned = _jobs.Where(j => j.CronJob == cron.Spec.Name && !j.Deleting).ToList();
            if (owned.Where(j => j.Condition == "Complete").Max(j => j.CompletionTime) is { } success && success > cron.LastSuccessfulTime.GetValueOrDefault())
            {
                cron.LastSuccessfulTime = success;
                changed = true;
            }

            var active = owned.Where(j => j.Condition is null).ToList();
            switch (CronController.Decide(cron.Spec, cron.CreatedAt, cron.LastScheduleTime, now, active.Count))
            {
                case CronDecision.Skip skip:
                    if (cron.LastEvent != skip.Reason)
                    {
                        cron.LastEvent = skip.Reason;
                        log.LogInformation("CronJob {CronJob}: {Reason}", cron.Spec.Name, skip.Reason);
                    }

                    break;
                case CronDecision.Start start:
                    if (start.ReplaceActive)
                    {
                        foreach (var job in active)
                        {
                            job.Deleting = true;
                        }
                    }

                    string name = CronController.JobName(cron.Spec.Name, start.Scheduled);
                    if (!_jobs.Any(j => j.Spec.Name == name))
                    {
                        _jobs.Add(new LocalJob(cron.Spec.JobTemplate with { Name = name }, now, cron.Spec.Name));
                        owned.Add(_jobs[^1]);
                    }

                    cron.LastScheduleTime = start.Scheduled;
                    cron.LastEvent = $"Started Job {name} for the run of {start.Scheduled:u}{(start.ReplaceActive ? ", replacing the running Job(s)" : "")}." +
                                     (start.Warning is null ? "" : " " + start.Warning);
                    log.LogInformation("CronJob {CronJob}: {Event}", cron.Spec.Name, cron.LastEvent);
                    changed = true;
                    break;
            }

            // History limits: the oldest finished Jobs beyond them go, with their pods.
            foreach (var (condition, limit) in new[] { ("Complete", cron.Spec.SuccessfulJobsHistoryLimit), ("Failed", cron.Spec.FailedJobsHistoryLimit) })
            {
                foreach (var old in owned.Where(j => j.Condition == condition && !j.Deleting).OrderByDescending(j => j.StartTime).Skip(limit))
                {
                    old.Deleting = true;
                    changed = true;
                }
            }
        }

        if (changed)
        {
            SaveState();
        }
    }

    // The HPA's turn: CPU of the Deployment's ready pods against their request, and the queue length. Under the lock.
    private void Autoscale(DateTimeOffset now)
    {
        var running = _pods.Where(p => p.KillAt is null && p.IsRunning).ToList();
        if (running.Count > 0)
        {
            _autoscaler.ObserveCpu(running.Average(p => p.CpuPercent) * 1000 / _o.CpuRequestMillicores);
        }

        var queue = queueState.Current;
        long? depth = queue.RedisAvailable && queue.At != DateTimeOffset.MinValue ? queue.Depth : null;
        _autoscaler.Record(now, running.Count, Math.Max(0, _desired), depth ?? 0);
        if (now - _autoscaler.LastEvaluation < _o.AutoscalerInterval)
        {
            return;
        }

        if (!_autoscaler.Spec.Enabled)
        {
            _autoscaler.Measure(now, depth);
            return;
        }

        int desired = _autoscaler.Evaluate(now, Math.Max(0, _desired), depth);
        if (desired != _desired && _desired > 0)
        {
            log.LogInformation("Autoscaler: {Event}", _autoscaler.LastEvent);
            _desired = desired;
            SaveState(desired);
        }
    }

    /// <summary>The start of a pod's termination, once: SIGTERM now, SIGKILL when the grace period is over.</summary>
    private void BeginStop(LocalPod pod, DateTimeOffset now)
    {
        if (pod.KillAt is not null)
        {
            return;
        }

        pod.KillAt = now + _o.GracePeriod;
        pod.Events.Normal(now, "Killing", $"Stopping the worker process: SIGTERM, then SIGKILL after {_o.GracePeriod.TotalSeconds:0} s");
        Signal(pod, PosixSignals.Term);
    }

    /// <summary>kubelet's restart back-off: the first delay, doubled with each restart, up to the maximum.</summary>
    private TimeSpan BackOff(int restarts) =>
        TimeSpan.FromTicks(Math.Min(_o.MaxRestartDelay.Ticks, _o.RestartDelay.Ticks * (1L << Math.Min(restarts, 20))));

    private void Finish(LocalJob job, string condition, string? reason, DateTimeOffset now)
    {
        job.Condition = condition;
        job.Reason = reason;
        job.CompletionTime = now;
        foreach (var (pod, _) in job.Pods.Where(p => p.Pod.IsRunning))
        {
            BeginStop(pod, now);
        }

        log.LogInformation("Job {Job} {Condition}{Reason}", job.Spec.Name, condition, reason is null ? "" : ": " + reason);
        SaveState();
    }

    private static Dictionary<string, string> JobEnvironment(JobSpec spec, int? index)
    {
        var env = new Dictionary<string, string>(spec.Env);
        if (index is { } i)
        {
            env["JOB_COMPLETION_INDEX"] = i.ToString(CultureInfo.InvariantCulture);
        }

        return env;
    }

    private static string[] JobArgs(JobSpec spec) =>
        spec.Command == JobCommand.AddTasks ? ["add-tasks", "--count", spec.AddTasksCount.ToString(CultureInfo.InvariantCulture)] : [];

    private void TryStart(LocalPod pod, IReadOnlyDictionary<string, string>? env = null, string[]? args = null)
    {
        string? worker = WorkerPath();
        if (worker is null)
        {
            _problem = "PiOps.Worker.dll was not found beside the dashboard: build the solution, or set LocalRuntime__WorkerPath.";
            pod.Events.Warning(time.GetUtcNow(), "Failed", _problem);
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
            return;
        }

        try
        {
            pod.Start(StartInfo(worker, pod.Name, env, args));
            pod.Events.Normal(pod.StartedAt, "Started", "Started the worker process");
            _problem = null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            _problem = $"Could not start a worker process: {ex.Message}";
            pod.Events.Warning(time.GetUtcNow(), "Failed", _problem);
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
        }
    }

    private ProcessStartInfo StartInfo(string worker, string podName, IReadOnlyDictionary<string, string>? env, string[]? args)
    {
        var (host, port, password) = WorkerRedis();
        string podDir = Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "pods", podName);
        Directory.CreateDirectory(podDir);
        var psi = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = podDir,
        };
        psi.ArgumentList.Add(worker);
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("REDIS_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["REDIS_HOST"] = host;
        psi.Environment["REDIS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        if (password is not null)
        {
            psi.Environment["REDIS_PASSWORD"] = password;
        }

        var q = queue.Value;
        psi.Environment["QUEUE_NAME"] = q.QueueName;
        psi.Environment["MAX_ITERATIONS"] = q.MaxIterations.ToString(CultureInfo.InvariantCulture);
        psi.Environment["MAX_ATTEMPTS"] = q.MaxAttempts.ToString(CultureInfo.InvariantCulture);
        psi.Environment["HEARTBEAT_TTL_SECONDS"] = q.HeartbeatTtl.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        psi.Environment["POD_NAME"] = podName;
        psi.Environment["LIVENESS_FILE"] = Path.Combine(podDir, "lastrun.date");
        psi.Environment["SHUTDOWN_TIMEOUT_SECONDS"] = Math.Max(1, _o.GracePeriod.TotalSeconds - 10).ToString(CultureInfo.InvariantCulture);
        psi.Environment["PIOPS_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        foreach (var a in args ?? [])
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    private (string Host, int Port, string? Password) WorkerRedis()
    {
        var options = redis.Settings.ToConfigurationOptions("describe");
        var endpoint = options.EndPoints[0];
        return endpoint switch
        {
            System.Net.DnsEndPoint d => (d.Host, d.Port, options.Password),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port, options.Password),
            _ => ("127.0.0.1", 6379, options.Password),
        };
    }

    private string? WorkerPath()
    {
        if (!string.IsNullOrWhiteSpace(_o.WorkerPath))
        {
            return _o.WorkerPath;
        }

        // The dashboard's build puts the worker in worker/; a test host may carry it directly beside itself.
        return new[] { Path.Combine(AppContext.BaseDirectory, "worker", "PiOps.Worker.dll"), Path.Combine(AppContext.BaseDirectory, "PiOps.Worker.dll") }
            .FirstOrDefault(File.Exists);
    }

    private static string DotnetHost() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    private async Task PublishAsync()
    {
        var now = time.GetUtcNow();
        WorkloadSnapshot snapshot;
        lock (_gate)
        {
            var pods = _pods.Select(p => View(p, now)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            int ready = pods.Count(p => p.Ready);
            var jobs = _jobs.Where(j => !j.Deleting || j.Pods.Any(p => p.Pod.IsRunning)).Select(j => new JobView(j.Spec,
                    j.Pods.Count(p => p.Pod.IsRunning && p.Pod.KillAt is null), j.Succeeded, j.Failed,
                    j.Deleting ? "Deleting" : j.Condition, j.Reason, j.StartTime, j.CompletionTime,
                    j.Pods.Select(p => View(p.Pod, now) with { Phase = JobPodPhase(j, p.Pod) }).ToList(), j.CronJob)
                {
                    Events = j.Events.Recent(),
                })
                .OrderByDescending(j => j.StartTime).ToList();
            var cronJobs = _cronJobs.Select(c => new CronJobView(c.Spec, c.CreatedAt, c.LastScheduleTime, c.LastSuccessfulTime,
                    _jobs.Where(j => j.CronJob == c.Spec.Name && !j.Deleting && j.Condition is null).Select(j => j.Spec.Name).ToList(), c.LastEvent))
                .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            var a = _autoscaler;
            var autoscaler = new AutoscalerView(a.Spec, "local autoscaler", pods.Count(p => p.Phase != "Terminating"),
                Math.Max(0, _desired), a.CpuPercent, a.QueueLength, a.LastScaleTime,
                a.Spec.Enabled ? a.Status : "Off: the Deployment keeps the replicas it is scaled to.", a.LastEvent, a.History);
            snapshot = new WorkloadSnapshot(now, new DeploymentView(DeploymentName, Math.Max(0, _desired), ready, ready, pods), jobs, cronJobs, autoscaler);
        }

        _current = snapshot;
        await _subscribers.NotifyAsync(snapshot, log);
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
        };
    }

    /// <summary>The book's Deployment labels its pods pod=pi; the chart's workers Deployment does the same.</summary>
    private static readonly IReadOnlyDictionary<string, string> WorkerPodLabels = new Dictionary<string, string> { ["pod"] = "pi", ["app.kubernetes.io/component"] = "worker" };

    /// <summary>The labels the Job controller puts on a Job's pods, beside the template's (PiOps' managed label).</summary>
    private static Dictionary<string, string> JobPodLabels(string job, int? index)
    {
        var labels = new Dictionary<string, string>
        {
            ["piops.io/managed"] = "true",
            ["job-name"] = job,
            ["batch.kubernetes.io/job-name"] = job,
        };
        if (index is { } i)
        {
            labels["batch.kubernetes.io/job-completion-index"] = i.ToString(CultureInfo.InvariantCulture);
        }

        return labels;
    }

    private static string JobPodPhase(LocalJob job, LocalPod pod) =>
        pod.IsRunning ? (pod.KillAt is null ? "Running" : "Terminating")
        : pod.Process is null ? "Pending"
        : pod.ExitCode == 0 ? "Succeeded"
        : job.Accounted.Contains(pod) || job.Condition is not null ? "Failed" : "CrashLoopBackOff";

    // The first line of what the pod last wrote to stderr: usually the reason it crashed.
    private static string LastError(LocalPod p)
    {
        var logs = p.Logs();
        var firstOfLastBurst = logs.Reverse().TakeWhile(l => l.Error).LastOrDefault();
        return firstOfLastBurst is null ? "" : ": " + (firstOfLastBurst.Text.Length > 200 ? firstOfLastBurst.Text[..200] + "…" : firstOfLastBurst.Text);
    }

    private int? LoadState()
    {
        try
        {
            if (File.Exists(StateFile))
            {
                var state = JsonSerializer.Deserialize<SavedState>(File.ReadAllText(StateFile), StateJson);
                foreach (var j in state?.Jobs ?? [])
                {
                    // Finished Jobs keep their outcome; unfinished ones start their pods again.
                    _jobs.Add(new LocalJob(j.Spec, j.StartTime, j.CronJob)
                    {
                        Succeeded = j.Succeeded, Failed = j.Failed, Condition = j.Condition, Reason = j.Reason, CompletionTime = j.CompletionTime,
                    });
                }

                foreach (var c in state?.CronJobs ?? [])
                {
                    _cronJobs.Add(new LocalCronJob(c.Spec, c.CreatedAt)
                    {
                        LastScheduleTime = c.LastScheduleTime, LastSuccessfulTime = c.LastSuccessfulTime, LastEvent = "Loaded after a restart of the dashboard.",
                    });
                }

                if (state?.Autoscaler is { } autoscaler)
                {
                    _autoscaler.Change(autoscaler);
                }

                return state?.Workers.Replicas;
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
        {
            log.LogWarning("Could not read {File} ({Message}); starting with {Replicas} replicas", StateFile, ex.Message, _o.InitialReplicas);
        }

        return null;
    }

    private void SaveState(int? replicas = null)
    {
        SavedState state;
        lock (_gate)
        {
            state = new SavedState(new SavedWorkers(replicas ?? Math.Max(0, _desired)),
                _jobs.Where(j => !j.Deleting).Select(j => new SavedJob(j.Spec, j.StartTime, j.Succeeded, j.Failed, j.Condition, j.Reason, j.CompletionTime, j.CronJob)).ToList(),
                _cronJobs.Select(c => new SavedCronJob(c.Spec, c.CreatedAt, c.LastScheduleTime, c.LastSuccessfulTime)).ToList(),
                _autoscaler.Spec);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
        string tmp = StateFile + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(state, StateJson));
        File.Move(tmp, StateFile, overwrite: true);
    }

    private static readonly JsonSerializerOptions StateJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private sealed record SavedState(SavedWorkers Workers, List<SavedJob>? Jobs, List<SavedCronJob>? CronJobs, AutoscalerSpec? Autoscaler);

    private sealed record SavedWorkers(int Replicas);

    private sealed record SavedJob(JobSpec Spec, DateTimeOffset StartTime, int Succeeded, int Failed, string? Condition, string? Reason, DateTimeOffset? CompletionTime, string? CronJob);

    private sealed record SavedCronJob(CronJobSpec Spec, DateTimeOffset CreatedAt, DateTimeOffset? LastScheduleTime, DateTimeOffset? LastSuccessfulTime);

    private static string RandomSuffix() =>
        string.Create(5, Random.Shared, (span, r) =>
        {
            const string chars = "bcdfghjklmnpqrstvwxz2456789";
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = chars[r.Next(chars.Length)];
            }
        });

    private static void Signal(LocalPod pod, int signal)
    {
        if (pod.Process is { HasExited: false } p)
        {
            PosixSignals.Send(p.Id, signal);
        }
    }
}

