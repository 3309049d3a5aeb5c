using PiOps.Worker;
using PiOps.Worker.Commands;
using PiOps.Worker.Processing;

return args switch
{
    [] => await RunWorkerAsync(),
    ["pi", var n] => PiCommand.Run(n),
    ["check-liveness", var file, var maxAge] => CheckLivenessCommand.Run(file, maxAge),
    ["add-tasks", .. var rest] => WorkerHost.LoadOptions(WorkerHost.EnvironmentConfiguration()) is { } o
        ? await AddTasksCommand.RunAsync(rest, o) : 1,
    ["help" or "--help" or "-h"] => Usage(Console.Out, 0),
    _ => Usage(Console.Error, 2),
};

static async Task<int> RunWorkerAsync()
{
    if (WorkerHost.LoadOptions(WorkerHost.EnvironmentConfiguration()) is not { } o)
    {
        return 1;
    }

    return o.CompletionIndex is not null
        ? await IndexedTaskCommand.RunAsync(o, BookConsole.Standard)
        : await WorkerHost.RunQueueWorkerAsync(o);
}

static int Usage(TextWriter to, int code)
{
    to.WriteLine("""
        PiOps.Worker: takes pi tasks from a Redis queue (see README.md for the environment variables).
          PiOps.Worker                                run the worker (needs REDIS_HOST)
          PiOps.Worker add-tasks [--count N] [--plain]  add N random tasks like the book's add_tasks.py
          PiOps.Worker pi N                           print pi from N iterations of the Leibniz series
          PiOps.Worker check-liveness FILE MAX_AGE    exit 0 if FILE's time is at most MAX_AGE s old, 1 if older, 2 if unreadable
        """);
    return code;
}
