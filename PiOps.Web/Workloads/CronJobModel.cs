using System.Text.RegularExpressions;

namespace PiOps.Web.Workloads;

/// <summary>What a CronJob does when a run is due while Jobs it started are still running.</summary>
public enum ConcurrencyPolicy
{
    /// <summary>Start the new Job anyway.</summary>
    Allow,

    /// <summary>Skip this run.</summary>
    Forbid,

    /// <summary>Delete the running Job(s), then start the new one.</summary>
    Replace,
}

/// <summary>
/// A CronJob as PiOps creates it: the fields of batch/v1 CronJob, with the Job it starts described by a
/// <see cref="JobSpec"/> (whose name is ignored: each run is named NAME-N as the controller names it).
/// </summary>
public sealed record CronJobSpec(
    string Name,
    string Schedule,
    string? TimeZone,
    bool Suspend,
    ConcurrencyPolicy ConcurrencyPolicy,
    int SuccessfulJobsHistoryLimit,
    int FailedJobsHistoryLimit,
    long? StartingDeadlineSeconds,
    JobSpec JobTemplate)
{
    /// <summary>
    /// On an edit, the version of the CronJob the form was opened on (its metadata.resourceVersion); the save is
    /// refused when the CronJob has changed since. Null: no check (a create).
    /// </summary>
    public string? ResourceVersion { get; init; }

    /// <summary>A CronJob's name leaves room for the 11 characters the controller appends to its Jobs' names.</summary>
    public const int MaxNameLength = 52;

    // \z, not $: '$' also matches before a final new line, and "addwork\n" is no DNS-1123 name.
    private static readonly Regex Dns1123 = new(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z", RegexOptions.Compiled);

    /// <summary>Every problem with the spec, as sentences; empty when it can be created.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > MaxNameLength || !Dns1123.IsMatch(Name))
        {
            yield return $"The name \"{Name}\" is not valid: use 1 to {MaxNameLength} lower-case letters, digits and '-', starting and ending with a letter or digit (DNS-1123; a CronJob's Jobs add 11 characters).";
        }

        if (!CronSchedule.TryParse(Schedule, TimeZone, out _, out var error))
        {
            yield return error!;
        }

        if (SuccessfulJobsHistoryLimit is < 0 or > 100)
        {
            yield return $"The successful Jobs history limit must be from 0 to 100 (got {SuccessfulJobsHistoryLimit}).";
        }

        if (FailedJobsHistoryLimit is < 0 or > 100)
        {
            yield return $"The failed Jobs history limit must be from 0 to 100 (got {FailedJobsHistoryLimit}).";
        }

        if (StartingDeadlineSeconds is < 0 or > 31_536_000)
        {
            yield return $"The starting deadline must be from 0 to 31,536,000 seconds, or empty for none (got {StartingDeadlineSeconds}).";
        }

        foreach (var problem in (JobTemplate with { Name = "template" }).Validate())
        {
            yield return "Job template: " + problem;
        }
    }

    /// <summary>The book's addwork CronJob (listing 10.10): add tasks every 5 minutes.</summary>
    public static CronJobSpec BookAddWork { get; } = new("addwork", "*/5 * * * *", null, false, ConcurrencyPolicy.Forbid, 3, 1, null,
        new JobSpec("addwork", JobCommand.AddTasks, 1, 1, false, 2, JobRestartPolicy.Never, new Dictionary<string, string>()));

    public static IReadOnlyList<(string Title, CronJobSpec Spec)> Templates { get; } =
    [
        ("Add work every 5 minutes (listing 10.10)", BookAddWork),
        ("Drain the queue every hour", new CronJobSpec("hourly-drain", "@hourly", null, false, ConcurrencyPolicy.Forbid, 3, 1, 600,
            JobSpec.Templates[0].Spec)),
    ];
}

/// <summary>A CronJob and its status, as `kubectl get cronjob` and `describe` show it.</summary>
/// <param name="Active">Names of its Jobs still running.</param>
/// <param name="LastEvent">The last thing the controller did or refused, in a sentence (e.g. a run skipped by Forbid).</param>
public sealed record CronJobView(
    CronJobSpec Spec,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastScheduleTime,
    DateTimeOffset? LastSuccessfulTime,
    IReadOnlyList<string> Active,
    string? LastEvent)
{
    public string Name => Spec.Name;

    /// <summary>The version of the CronJob shown (metadata.resourceVersion; locally a counter), for edits made from it.</summary>
    public string? ResourceVersion { get; init; }
}
