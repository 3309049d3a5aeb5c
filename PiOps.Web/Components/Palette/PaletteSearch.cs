using PiOps.Shared.Queue;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Palette;

/// <summary>One place the command palette can go: what it is, its name, and the address that shows it.</summary>
public sealed record PaletteEntry(string Kind, string Label, string Href);

/// <summary>
/// What the command palette offers for a query: the pages, the workers Deployment, each Job, CronJob and pod of the
/// current snapshot, and a task id to look up. Matching ignores case; every word of the query must appear; names that
/// start with the query come first.
/// </summary>
public static class PaletteSearch
{
    public const int MaxResults = 12;

    private static readonly PaletteEntry[] Pages =
    [
        new("Page", "Overview", ""),
        new("Page", "Enqueue", "enqueue"),
        new("Page", "Queue", "queue"),
        new("Page", "Tasks", "tasks"),
        new("Page", "Dead letters", "dead-letters"),
        new("Page", "Workers", "workers"),
        new("Page", "Jobs", "jobs"),
        new("Page", "CronJobs", "cronjobs"),
        new("Page", "Autoscaling", "autoscaling"),
        new("Page", "Logs", "logs"),
        new("Page", "Audit", "audit"),
    ];

    private static readonly PaletteEntry ApiTokens = new("Page", "API tokens", "settings");

    public static IReadOnlyList<PaletteEntry> Find(string? query, WorkloadSnapshot workloads, bool isAdmin)
    {
        string q = (query ?? "").Trim();
        var all = Entries(workloads, isAdmin).ToList();
        if (q.Length == 0)
        {
            return all.Where(e => e.Kind == "Page").Take(MaxResults).ToList();
        }

        string[] words = q.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var found = all
            .Select((e, order) => (Entry: e, Order: order, Text: e.Kind + " " + e.Label))
            .Where(x => words.All(w => x.Text.Contains(w, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(x => x.Entry.Label.StartsWith(q, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(x => x.Order)
            .Select(x => x.Entry)
            .Take(MaxResults)
            .ToList();
        if (words.Length == 1 && q.Length >= 6 && TaskIds.IsValid(q) && found.Count < MaxResults)
        {
            // Any id-shaped text of six characters or more can be looked up; the Tasks page says whether it is known.
            found.Add(new PaletteEntry("Task", $"Look up task {q}", "tasks?id=" + Uri.EscapeDataString(q)));
        }

        return found;
    }

    private static IEnumerable<PaletteEntry> Entries(WorkloadSnapshot w, bool isAdmin)
    {
        foreach (var page in Pages)
        {
            yield return page;
        }

        if (isAdmin)
        {
            yield return ApiTokens;
        }

        yield return new PaletteEntry("Deployment", w.Workers.Name, "workers");
        foreach (var job in w.Jobs)
        {
            yield return new PaletteEntry("Job", job.Name, "jobs?job=" + Uri.EscapeDataString(job.Name));
        }

        foreach (var cron in w.CronJobs)
        {
            yield return new PaletteEntry("CronJob", cron.Name, "cronjobs");
        }

        foreach (var pod in w.Workers.Pods.Concat(w.Jobs.SelectMany(j => j.Pods)))
        {
            yield return new PaletteEntry("Pod logs", pod.Name, "logs?target=" + Uri.EscapeDataString(new LogTarget(LogTargetKind.Pod, pod.Name).ToString()));
        }
    }
}
