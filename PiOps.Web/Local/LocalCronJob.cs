using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>A CronJob of the local runtime: its spec and the status the CronJob controller keeps.</summary>
internal sealed class LocalCronJob(CronJobSpec spec, DateTimeOffset createdAt)
{
    public CronJobSpec Spec { get; set; } = spec;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public DateTimeOffset? LastScheduleTime { get; set; }

    public DateTimeOffset? LastSuccessfulTime { get; set; }

    public string? LastEvent { get; set; }

    /// <summary>Bumped on every change, as a resourceVersion: an edit made from an older one is refused.</summary>
    public long Version { get; set; } = 1;
}

/// <summary>What the CronJob controller does at one look.</summary>
internal abstract record CronDecision
{
    /// <summary>Nothing is due.</summary>
    public sealed record Wait : CronDecision;

    /// <summary>A run is due and is not started, for the reason given.</summary>
    public sealed record Skip(DateTimeOffset Scheduled, string Reason) : CronDecision;

    /// <summary>Start the run of <paramref name="Scheduled"/>, first deleting the running Jobs when <paramref name="ReplaceActive"/>.</summary>
    public sealed record Start(DateTimeOffset Scheduled, bool ReplaceActive, string? Warning) : CronDecision;
}

/// <summary>
/// The CronJob controller's decision, as Kubernetes' (cronjob_controllerv2) makes it: the most recent missed run since
/// the last schedule time (or creation), dropped when older than startingDeadlineSeconds; Forbid waits while a Job
/// runs (the run starts when it ends, if still within the deadline); Replace deletes the running Jobs first; a
/// suspended CronJob starts nothing. Pure, so the clock is the caller's.
/// </summary>
internal static class CronController
{
    public const int TooManyMissed = 100;

    public static CronDecision Decide(CronJobSpec spec, DateTimeOffset createdAt, DateTimeOffset? lastSchedule, DateTimeOffset now, int activeJobs)
    {
        if (spec.Suspend || !CronSchedule.TryParse(spec.Schedule, spec.TimeZone, out var schedule, out _))
        {
            return new CronDecision.Wait();
        }

        var (latest, missed) = schedule!.LatestRun(lastSchedule ?? createdAt, now, TooManyMissed + 1);
        if (latest is not { } scheduled)
        {
            return new CronDecision.Wait();
        }

        // Too late to start: nothing starts, and the next look finds a newer run (the controller moves its earliest
        // time to now - deadline; saying so is what an operator needs to see).
        if (spec.StartingDeadlineSeconds is { } deadline && scheduled.AddSeconds(deadline) < now)
        {
            return new CronDecision.Skip(scheduled, $"Missed the run of {scheduled:u}: it is more than the starting deadline of {deadline} s ago.");
        }

        string? warning = missed > TooManyMissed && spec.StartingDeadlineSeconds is null
            ? $"More than {TooManyMissed} runs were missed (was the dashboard stopped?); only the latest is started. Set a starting deadline to bound this."
            : null;
        if (activeJobs > 0 && spec.ConcurrencyPolicy == ConcurrencyPolicy.Forbid)
        {
            return new CronDecision.Skip(scheduled, $"The run of {scheduled:u} waits: concurrency policy Forbid and a Job is still running.");
        }

        return new CronDecision.Start(scheduled, activeJobs > 0 && spec.ConcurrencyPolicy == ConcurrencyPolicy.Replace, warning);
    }

    /// <summary>The Job name the controller gives a run: the CronJob's name and the scheduled time in minutes since 1970.</summary>
    public static string JobName(string cronJob, DateTimeOffset scheduled) =>
        $"{cronJob}-{scheduled.ToUnixTimeSeconds() / 60}";
}
