using System.Globalization;
using PiOps.Web.Queue;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Controls;

/// <summary>One line that answers "is something wrong?", with where to look.</summary>
public sealed record HealthLine(bool Problem, string Text, string? Href, string? LinkText);

/// <summary>
/// The Overview's health line: the first problem it sees, most urgent first, from what the pages already hold (the
/// queue's sample and the workloads' snapshot). Pure, so each rule is tested on its own.
/// </summary>
public static class OverviewHealth
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RecentJob = TimeSpan.FromHours(1);

    public static HealthLine Assess(QueueSnapshot queue, WorkloadSnapshot workloads, DateTimeOffset now)
    {
        if (!queue.RedisAvailable && queue.At != DateTimeOffset.MinValue)
        {
            return new(true, "Redis is not answering: nothing can be enqueued or taken until it is back.", null, null);
        }

        var crashing = workloads.Workers.Pods.Concat(workloads.Jobs.SelectMany(j => j.Pods))
            .FirstOrDefault(p => p.Phase == "CrashLoopBackOff");
        if (crashing is not null)
        {
            return new(true, $"Worker {crashing.Name} is crash-looping ({crashing.Restarts} restart(s)){(crashing.Note is null ? "" : ": " + crashing.Note)}.",
                "logs?target=" + Uri.EscapeDataString("pod/" + crashing.Name), "its logs");
        }

        var failed = workloads.Jobs.Where(j => j.Condition == "Failed" && now - (j.CompletionTime ?? j.StartTime) < RecentJob)
            .MaxBy(j => j.CompletionTime ?? j.StartTime);
        if (failed is not null)
        {
            return new(true, $"Job {failed.Name} failed{(failed.Reason is null ? "" : $" ({failed.Reason})")}.", "jobs", "Jobs");
        }

        if (queue.Depth > 0 && queue.WorkersAlive == 0 && !queue.Paused)
        {
            return new(true, $"{Count(queue.Depth)} task(s) wait and no worker is alive.", "workers", "Workers");
        }

        var before = queue.History.LastOrDefault(p => p.At <= now - Window) ?? queue.History.FirstOrDefault();
        if (before is not null && now - before.At >= Window / 2 && queue.Depth - before.Depth >= 10 && !queue.Paused)
        {
            double perSecond = (queue.Depth - before.Depth) / Math.Max(1, (now - before.At).TotalSeconds);
            return new(true, $"The queue grows faster than it drains: +{Count(queue.Depth - before.Depth)} in {Format.Duration(now - before.At)} "
                + $"({perSecond.ToString("0.#", CultureInfo.InvariantCulture)}/s more than the workers do).", "autoscaling", "Autoscaling");
        }

        if (queue.FailedPerSecond > 0)
        {
            return new(true, $"Tasks are being dead-lettered ({Format.Rate(queue.FailedPerSecond)}).", "dead-letters", "Dead letters");
        }

        if (workloads.Autoscaler is { Spec.Enabled: true } a && a.CurrentReplicas >= a.Spec.MaxReplicas && queue.Depth > 0)
        {
            return new(true, $"The autoscaler is at its maximum of {a.Spec.MaxReplicas} replica(s) with {Count(queue.Depth)} task(s) waiting.",
                "autoscaling", "Autoscaling");
        }

        if (queue.Paused)
        {
            return new(true, "The queue is paused: workers finish what they run and take nothing new.", "queue", "Queue");
        }

        return new(false, queue.Depth == 0 ? "No problem seen: the queue is empty and nothing is failing."
            : $"No problem seen: {Count(queue.Depth)} task(s) waiting, draining at {Format.Rate(queue.DonePerSecond)}.", null, null);
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
