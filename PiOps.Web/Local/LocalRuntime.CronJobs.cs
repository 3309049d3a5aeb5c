using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>The CronJob controller of the local runtime: definitions, run now, and starting Jobs on schedule.</summary>
public sealed partial class LocalRuntime
{
    public Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null)
    {
        lock (_gate)
        {
            if (_cronJobs.Any(c => c.Spec.Name == spec.Name))
            {
                throw new OperatorActionException($"A CronJob named {spec.Name} already exists: edit it, delete it first, or choose another name.");
            }

            _cronJobs.Add(new LocalCronJob(spec with { ResourceVersion = null }, time.GetUtcNow()) { LastEvent = "Created." });
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task UpdateCronJobAsync(CronJobSpec spec, Actor? by = null)
    {
        lock (_gate)
        {
            var cron = FindCronJob(spec.Name);
            if (spec.ResourceVersion is { } seen && seen != cron.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw OperatorActionException.StaleEdit("CronJob", spec.Name);
            }

            // The template stays: a CronJob's Jobs are made from the template it was created with.
            cron.Spec = spec with { JobTemplate = cron.Spec.JobTemplate, ResourceVersion = null };
            cron.Version++;
            cron.LastEvent = $"Schedule set to \"{spec.Schedule}\"{(string.IsNullOrEmpty(spec.TimeZone) ? "" : " in " + spec.TimeZone)}.";
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null)
    {
        lock (_gate)
        {
            var cron = FindCronJob(name);
            cron.Spec = cron.Spec with { Suspend = suspend };
            cron.Version++;
            cron.LastEvent = suspend ? "Suspended: no run starts until it is resumed." : "Resumed.";
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    public Task DeleteCronJobAsync(string name, Actor? by = null)
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

    public Task RunCronJobAsync(string name, string jobName, Actor? by = null)
    {
        lock (_gate)
        {
            var cron = FindCronJob(name);
            // kubectl create job NAME --from=cronjob/CRON: a Job from the template now, whatever the schedule or suspend.
            _jobs.Add(new LocalJob(cron.Spec.JobTemplate with { Name = jobName }, time.GetUtcNow(), name));
            cron.LastEvent = $"Run now: started Job {jobName}.";
            cron.Version++;
        }

        SaveState();
        Wake();
        return Task.CompletedTask;
    }

    // Under the lock.
    private LocalCronJob FindCronJob(string name) =>
        _cronJobs.FirstOrDefault(c => c.Spec.Name == name)
        ?? throw new OperatorActionException($"There is no CronJob named {name}: it may have been deleted.");

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
                cron.Version++;
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
                case CronDecision.Start when !_cronJobsLease.IsHeld:
                    // Another dashboard starts the runs. The run stays due here (LastScheduleTime is not moved), so a
                    // dashboard taking the lease over starts the latest missed run, as the CronJob controller does
                    // after a restart.
                    string waiting = NotHolding(_cronJobsLease, "starts CronJobs' runs");
                    if (cron.LastEvent != waiting)
                    {
                        cron.LastEvent = waiting;
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
                    cron.Version++;
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
}
