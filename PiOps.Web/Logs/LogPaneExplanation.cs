using System.Globalization;
using PiOps.Web.Workloads;

namespace PiOps.Web.Logs;

/// <summary>
/// Why a log pane shows no line, and what is still available: an empty black pane tells an operator nothing.
/// Pure, from what the page already holds.
/// </summary>
public static class LogPaneExplanation
{
    /// <param name="kept">The lines the session holds (before the page's filters).</param>
    /// <param name="around">The window a task's link asks for, if any.</param>
    /// <param name="filtered">Whether a text filter, a since limit or excluded pods hide lines.</param>
    public static string? Explain(LogTarget target, WorkloadSnapshot snapshot, bool isLocal, IReadOnlyList<TailedPod> pods,
        IReadOnlyList<LogLine> kept, DateTimeOffset? around, bool filtered, int linesPerPod, Func<DateTimeOffset, string>? clock = null)
    {
        clock ??= t => t.ToUniversalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        string Clock(DateTimeOffset t) => clock(t);
        string keeps = isLocal
            ? $"The local runtime keeps a pod's last {linesPerPod.ToString("N0", CultureInfo.InvariantCulture)} lines while the pod exists; a pod that was replaced, scaled away or deleted, or that ended before the dashboard restarted, took its lines with it."
            : "Kubernetes keeps a container's log only while its pod exists; a deleted pod's lines are gone unless a log shipper keeps them.";
        if (pods.Count == 0)
        {
            return target.Kind switch
            {
                LogTargetKind.Pod => $"Pod {target.Name} does not exist now, so there are no lines to show. {keeps} "
                                     + "Still available: the task's record on the Tasks page (result, worker, times) and the lines of the pods that run now.",
                LogTargetKind.Job when snapshot.Jobs.Any(j => j.Name == target.Name) =>
                    $"Job {target.Name} has no pods now: they ended and were removed. {keeps} Still available: the Job's status and events on the Jobs page.",
                LogTargetKind.Job => $"There is no Job {target.Name} now (deleted, or removed by its CronJob's history limit). {keeps}",
                LogTargetKind.Deployment => $"The Deployment {target.Name} has no pods: it is scaled to 0. Scale it up on the Workers page.",
                _ => $"No pod matches {target.Name} now. Lines appear as soon as a matching pod starts.",
            };
        }

        if (kept.Count == 0)
        {
            var problems = pods.Where(p => p.Problem is not null).Select(p => $"{p.Name}: {p.Problem}").ToList();
            return problems.Count > 0 ? string.Join(" ", problems)
                : "No lines yet: the pods have written nothing since they started. New lines appear here as they are written.";
        }

        string range = $"{kept.Count.ToString("N0", CultureInfo.InvariantCulture)} line(s) are kept, from {Clock(kept[0].At)} to {Clock(kept[^1].At)}";
        if (around is { } at)
        {
            string window = $"No line between {Clock(at.AddMinutes(-2))} and {Clock(at.AddMinutes(2))}, the window around the task.";
            return at.AddMinutes(2) < kept[0].At
                ? $"{window} {range}: the task ran before the oldest line kept. {keeps} Clear the 'around' chip to see every line."
                : $"{window} {range}. Clear the 'around' chip to see every line.";
        }

        return filtered ? $"No line matches the filters. {range}." : null;
    }
}
