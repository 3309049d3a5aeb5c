using System.Text.RegularExpressions;

namespace PiOps.Web.Workloads;

/// <summary>What a Job's pods run: the queue worker, or the book's add_tasks.</summary>
public enum JobCommand
{
    Worker,
    AddTasks,
}

public enum JobRestartPolicy
{
    OnFailure,
    Never,
}

/// <summary>
/// A Job as PiOps creates it, the fields of batch/v1 Job that the book uses. Completions null with a worker command is
/// the book's work-queue Job: pods run until the queue is empty (COMPLETE_WHEN_EMPTY) and the Job completes once one
/// has succeeded and none is left running.
/// </summary>
public sealed record JobSpec(
    string Name,
    JobCommand Command,
    int Parallelism,
    int? Completions,
    bool Indexed,
    int BackoffLimit,
    JobRestartPolicy RestartPolicy,
    IReadOnlyDictionary<string, string> Env,
    int AddTasksCount = 10)
{
    // \z, not $: '$' also matches before a final new line, and "addwork\n" is no DNS-1123 name.
    private static readonly Regex Dns1123 = new(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z", RegexOptions.Compiled);

    /// <summary>Every problem with the spec, as sentences; empty when it can be created.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > 63 || !Dns1123.IsMatch(Name))
        {
            yield return $"The name \"{Name}\" is not valid: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (DNS-1123).";
        }

        if (Parallelism is < 1 or > 32)
        {
            yield return $"Parallelism must be from 1 to 32 (got {Parallelism}).";
        }

        if (Completions is < 1 or > 10_000)
        {
            yield return $"Completions must be from 1 to 10,000 (got {Completions}).";
        }

        if (Indexed && Completions is null)
        {
            yield return "An Indexed Job needs completions: how many indexes to run.";
        }

        if (BackoffLimit is < 0 or > 100)
        {
            yield return $"The backoff limit must be from 0 to 100 (got {BackoffLimit}).";
        }

        if (AddTasksCount is < 1 or > 1_000_000)
        {
            yield return $"The number of tasks to add must be from 1 to 1,000,000 (got {AddTasksCount}).";
        }
    }

    /// <summary>
    /// Two specs are equal when they say the same, the environment compared by its names and values (not by which
    /// dictionary holds them): a spec read back from its Job equals the spec it was made from.
    /// </summary>
    public bool Equals(JobSpec? other) =>
        other is not null
        && (Name, Command, Parallelism, Completions, Indexed, BackoffLimit, RestartPolicy, AddTasksCount)
        == (other.Name, other.Command, other.Parallelism, other.Completions, other.Indexed, other.BackoffLimit, other.RestartPolicy, other.AddTasksCount)
        && Env.Count == other.Env.Count && Env.All(e => other.Env.TryGetValue(e.Key, out var v) && v == e.Value);

    public override int GetHashCode() => HashCode.Combine(Name, Command, Parallelism, Completions, Indexed, BackoffLimit, RestartPolicy, AddTasksCount);

    /// <summary>The book's listings, as templates.</summary>
    public static IReadOnlyList<(string Title, JobSpec Spec)> Templates { get; } =
    [
        ("Queue-draining workers (listing 10.12)", new JobSpec("jobworker", JobCommand.Worker, 2, null, false, 2, JobRestartPolicy.OnFailure,
            new Dictionary<string, string> { ["COMPLETE_WHEN_EMPTY"] = "1" })),
        ("Add work (listing 10.9)", new JobSpec("addwork", JobCommand.AddTasks, 1, 1, false, 2, JobRestartPolicy.Never,
            new Dictionary<string, string>())),
        ("Indexed Job (listing 10.13)", new JobSpec("indexed", JobCommand.Worker, 3, 5, true, 2, JobRestartPolicy.Never,
            new Dictionary<string, string> { ["TASKS"] = "1000000,2000000,3000000,4000000,5000000" })),
    ];
}

/// <summary>A Job and its status, as `kubectl get job` and `describe` show it.</summary>
/// <param name="CronJob">The CronJob that started it, if one did.</param>
public sealed record JobView(
    JobSpec Spec,
    int Active,
    int Succeeded,
    int Failed,
    string? Condition,
    string? Reason,
    DateTimeOffset StartTime,
    DateTimeOffset? CompletionTime,
    IReadOnlyList<PodView> Pods,
    string? CronJob = null)
{
    public string Name => Spec.Name;

    /// <summary>What the Job controller reported (SuccessfulCreate, Completed, BackoffLimitExceeded, ...), most recent first, bounded.</summary>
    public IReadOnlyList<ObjectEvent> Events { get; init; } = [];

    /// <summary>Warnings of the Job and of its pods.</summary>
    public int Warnings => ObjectEvent.WarningsIn(Events) + Pods.Sum(p => p.Warnings);

    public string CompletionsText => Spec.Completions is { } c ? $"{Succeeded}/{c}" : $"{Succeeded}/1 of {Spec.Parallelism}";
}
