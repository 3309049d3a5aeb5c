using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;

namespace PiOps.Bench;

/// <summary>
/// The resilience runs of issue 9 at full size, with the same scenarios the tests run small (PiOps.Tests/Resilience).
/// Each prints its account and exits 1 if a task was lost.
/// </summary>
internal static class ResilienceBenchmarks
{
    /// <summary>kills [tasks=10000]: 4 workers, one SIGKILLed at random every 0.5 s and replaced.</summary>
    public static async Task<int> KillsAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            var run = await WorkerKillScenario.RunAsync(redis, tasks, workers: 4, longTask: 2_000_000, TimeSpan.FromMilliseconds(500),
                TimeSpan.FromMinutes(20), Environment.TickCount, Console.WriteLine);
            Console.WriteLine(run.Describe());
            return Verdict(run.Ledger.AllDone && run.SelfExits.Count == 0);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    /// <summary>redis-restart [tasks=20000] [restarts=3]: redis-server SIGKILLed and restarted mid-run, 2 s down each time.</summary>
    public static async Task<int> RedisRestartAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        int restarts = args.Length > 1 ? int.Parse(args[1]) : 3;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            var run = await RedisRestartScenario.RunAsync(redis, tasks, workers: 4, iterations: 2_000_000, restarts,
                TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(20), Console.WriteLine);
            Console.WriteLine(run.Describe());
            return Verdict(run.Ledger.AllDone && run.SameWorkers && run.ApiAfterRestart);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    /// <summary>scale-down [tasks=10000]: the local runtime scaled 8 -> 4 -> 2 -> 1 during a run.</summary>
    public static async Task<int> ScaleDownAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            var run = await ScaleDownScenario.RunAsync(redis, tasks, [8, 4, 2, 1], TimeSpan.FromMinutes(20), Console.WriteLine);
            Console.WriteLine(run.Describe());
            return Verdict(run.Ledger.AllDone && run.Ledger.Duplicates == 0);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    /// <summary>producers [clients=200] [seconds=30]: HTTP API enqueues against the dashboard process; pages' TTFB meanwhile.</summary>
    public static async Task<int> ProducersAsync(string[] args)
    {
        int clients = args.Length > 0 ? int.Parse(args[0]) : 200;
        int seconds = args.Length > 1 ? int.Parse(args[1]) : 30;
        var redis = new VolatileRedisServer();
        await redis.InitializeAsync();
        try
        {
            await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
            {
                ["REDIS_HOST"] = "127.0.0.1",
                ["REDIS_PORT"] = redis.Port.ToString(),
            });
            var run = await ProducerLoadScenario.RunAsync(dashboard.BaseAddress, clients, TimeSpan.FromSeconds(seconds));
            Console.WriteLine(run.Describe());
            bool ok = run.Errors == 0 && run.LoadedTtfbMedianMs < 100;
            Console.WriteLine(ok ? "goal met: no errors, pages' median time to first byte under 100 ms" : "GOAL MISSED");
            return ok ? 0 : 1;
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static int Verdict(bool ok)
    {
        Console.WriteLine(ok ? "no task lost" : "TASKS LOST OR WORKERS EXITED");
        return ok ? 0 : 1;
    }
}
