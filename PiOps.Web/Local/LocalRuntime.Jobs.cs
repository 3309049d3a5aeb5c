using System.Globalization;
using k8s.Models;
using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>The Job controller of the local runtime: create, delete, re-run, and reconcile pods to completions.</summary>
public sealed partial class LocalRuntime
{
    /// <summary>
    /// The Job as far as the local runtime can run it (the worker image's commands). With no API server in front, the
    /// runtime checks what it is given itself, as the API server's validation would.
    /// </summary>
    public Task CreateJobAsync(V1Job job, Actor? by = null)
    {
        var spec = Manifests.ToJobSpec(job.Metadata.Name, job.Spec);
        WorkloadActions.ThrowIfInvalid(spec.Validate(), "Nothing was created.");
        lock (_gate)
        {
            if (_jobs.Any(j => j.Spec.Name == spec.Name))
            {
                throw new OperatorActionException($"A Job named {spec.Name} already exists: re-run it, delete it first, or choose another name.");
            }

            _jobs.Add(new LocalJob(spec, time.GetUtcNow()));
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task DeleteJobAsync(string name, Actor? by = null)
    {
        lock (_gate)
        {
            var job = _jobs.FirstOrDefault(j => j.Spec.Name == name && !j.Deleting)
                ?? throw new OperatorActionException($"There is no Job named {name}: it may have been deleted already.");
            job.Deleting = true;
        }

        Wake();
        return Task.CompletedTask;
    }

    /// <summary>A deleted Job goes once its pods have stopped: SIGTERM, then at most the grace period.</summary>
    public TimeSpan JobDeletionTimeout => _o.GracePeriod + TimeSpan.FromSeconds(10);

    public Task<V1Job?> GetJobAsync(string name, Actor? by = null)
    {
        lock (_gate)
        {
            return Task.FromResult(_jobs.FirstOrDefault(j => j.Spec.Name == name && !j.Deleting) is { } job ? Manifests.Job(job.Spec, Pod) : null);
        }
    }

    public Task<string?> CheckCreateJobAsync(V1Job job, Actor? by = null)
    {
        var problems = Manifests.ToJobSpec(job.Metadata.Name, job.Spec).Validate().ToList();
        return Task.FromResult(problems.Count == 0 ? null : string.Join(" ", problems));
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
                    _sweepPodFolders = true;
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
                string name = index is { } i ? $"{spec.Name}-{i}-{WorkloadNames.RandomSuffix()}" : $"{spec.Name}-{WorkloadNames.RandomSuffix()}";
                var pod = new LocalPod(name, logs.Value.LinesPerPod, time, JobPodLabels(spec.Name, index));
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
}
