using PiOps.Shared.Queue;

namespace PiOps.Tests.Queue;

/// <summary>Results a worker would store for an entry it took, without computing pi.</summary>
internal static class TestResults
{
    /// <summary>The result of <paramref name="raw"/>'s task (its id, iterations and attempt), finished now by <paramref name="worker"/>.</summary>
    public static TaskResult Of(string raw, string worker, string pi, double durationMs)
    {
        var task = TaskEntry.Parse(raw, new QueueOptions()).Task!;
        var now = DateTimeOffset.UtcNow;
        return new TaskResult(task.Id, task.Iterations, pi, durationMs, worker, task.Attempt, task.EnqueuedAt,
            now.AddMilliseconds(-durationMs), now);
    }
}
