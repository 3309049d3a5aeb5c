using System.Globalization;
using PiOps.Shared.Queue;
using PiOps.Worker.Configuration;
using PiOps.Worker.Observability;
using StackExchange.Redis;

namespace PiOps.Worker.Commands;

/// <summary>
/// `PiOps.Worker add-tasks [--count 10] [--plain]`: the book's add_tasks.py. Pushes random (10..100) x 100000
/// iterations and prints `added task: N`, `queue depth N`, `done`.
/// </summary>
public static class AddTasksCommand
{
    public static async Task<int> RunAsync(string[] args, WorkerOptions o)
    {
        int count = 10;
        bool plain = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--plain":
                    plain = true;
                    break;
                case "--count" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 1_000_000)
                    {
                        Console.Error.WriteLine($"error: --count must be a whole number from 1 to 1000000 (got \"{args[i]}\")");
                        return 2;
                    }

                    break;
                default:
                    Console.Error.WriteLine($"error: unknown argument \"{args[i]}\". Usage: add-tasks [--count N] [--plain]");
                    return 2;
            }
        }

        var tasks = Enumerable.Range(0, count).Select(_ => Random.Shared.Next(10, 101) * 100_000L).ToArray();
        var options = o.Redis.ToConfigurationOptions("piops-add-tasks");
        options.AbortOnConnectFail = true;
        await using var redis = await Connect(options);
        if (redis is null)
        {
            return 1;
        }

        // The addwork Job's span starts the tasks' traces; disposing the tracer sends it before the process exits.
        using (WorkerTelemetry.CommandTracer(WorkerHost.EnvironmentConfiguration()))
        {
            var producer = new TaskProducer(redis, o.Queue);
            await producer.EnqueueAsync(tasks, plain ? EntryFormat.Plain : EntryFormat.Envelope);
        }

        foreach (long n in tasks)
        {
            Console.WriteLine($"added task: {n}");
        }

        long depth = await redis.GetDatabase().ListLengthAsync(o.Queue.QueueName);
        Console.WriteLine($"queue depth {depth}");
        Console.WriteLine("done");
        return 0;
    }

    private static async Task<ConnectionMultiplexer?> Connect(ConfigurationOptions options)
    {
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisConnectionException ex)
        {
            Console.Error.WriteLine($"error: cannot reach Redis at {string.Join(",", options.EndPoints)}: {ex.Message.Split('\n')[0]}");
            return null;
        }
    }
}
