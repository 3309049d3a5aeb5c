using System.Diagnostics;
using PiOps.Shared.Pi;
using PiOps.Shared.Queue;
using PiOps.Worker.Configuration;
using PiOps.Worker.Processing;
using StackExchange.Redis;

namespace PiOps.Worker.Commands;

/// <summary>
/// An Indexed Job's pod: runs the task at JOB_COMPLETION_INDEX of the static list in TASKS or TASKS_FILE, then exits 0.
/// The result also goes to Redis when REDIS_HOST is set, so the dashboard sees it.
/// </summary>
public static class IndexedTaskCommand
{
    public static async Task<int> RunAsync(WorkerOptions o, BookConsole console)
    {
        int index = o.CompletionIndex!.Value;
        string list;
        try
        {
            list = o.Tasks ?? await File.ReadAllTextAsync(o.TasksFile!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot read TASKS_FILE {o.TasksFile}: {ex.Message}");
            return 1;
        }

        var items = list.Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (index >= items.Length)
        {
            Console.Error.WriteLine($"error: JOB_COMPLETION_INDEX {index} is past the end of the task list ({items.Length} tasks); set the Job's completions to {items.Length}");
            return 1;
        }

        var (n, error) = TaskEntry.ParseIterations(items[index], o.Queue.MaxIterations);
        if (error is not null)
        {
            Console.Error.WriteLine($"error: task {index} of the list: {error}");
            return 1;
        }

        console.Line("starting");
        string id = $"index-{index}";
        console.Line($"got task: {n} (index {index})");
        var startedAt = DateTimeOffset.UtcNow;
        var sw = Stopwatch.StartNew();
        var value = LeibnizPi.Compute(n);
        console.Line($"{value} (index {index}, {sw.Elapsed.TotalSeconds:F3} s)");

        if (o.Redis.IsConfigured)
        {
            string worker = WorkerHost.NewWorkerId(o.Host);
            var result = new TaskResult($"{id}-{Guid.NewGuid():N}"[..24], n, value.ToString(), sw.Elapsed.TotalMilliseconds, worker, 1,
                null, startedAt, DateTimeOffset.UtcNow);
            var options = o.Redis.ToConfigurationOptions("piops-indexed");
            try
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
                await new WorkerQueue(redis, redis, o.Queue, worker).CompleteAsync("", result);
            }
            catch (Exception ex) when (RedisFaults.IsTransient(ex))
            {
                // The computation is done and printed; the Job still succeeds. Only the dashboard's copy is missing.
                Console.Error.WriteLine($"warning: result not stored in Redis: {ex.Message}");
            }
        }

        return 0;
    }
}
