using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>
/// Redis frozen with SIGSTOP for longer than the workers' command timeout (5 s), mid-run, then SIGCONT: the stores the
/// workers sent before giving up run late, and so do their retries. Each task is still counted exactly once.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class RedisStallFacts(RedisServer server, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task RedisFrozenLongerThanTheWorkersTimeout_MidRun_EveryTaskCompletesExactlyOnce()
    {
        const int tasks = 3_000;
        string queue = TestRedisServer.NewQueueName();
        var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, tasks, 2_000_000);
        await using var pool = new WorkerPool(server, queue, 3).Start();
        await ledger.WaitForCompletionsAsync(tasks / 4, TimeSpan.FromMinutes(2));

        // Longer than the workers' 5 s command timeout, shorter than their 15 s heartbeat: nobody is recovered, so
        // every duplicate would be a retried store, not a second run.
        await server.StallAsync(TimeSpan.FromSeconds(8));

        var report = await ledger.WaitUntilCompleteAsync(TimeSpan.FromMinutes(3), () => pool.Running[0].Output);
        output.WriteLine(report.Describe());
        int retries = pool.Running.Sum(w => w.ErrorLines.Count(l => l.Contains("Redis unavailable")));
        var skipped = pool.Running.SelectMany(w => w.Lines).Where(l => l.Contains("not stored again")).ToList();
        output.WriteLine($"{retries} worker retry lines; {string.Join("; ", skipped)}");

        Assert.True(retries > 0, $"the workers should have timed out against the frozen server: {report.Describe()}");
        // The late first tries stored; the retries found their entries gone and said so instead of storing again.
        Assert.NotEmpty(skipped);
        Assert.True(report.AllDone, report.Describe());
        Assert.Equal(tasks, report.Completions);
        Assert.Equal(0, report.DeadLetters);
        Assert.All(pool.Running, w => Assert.False(w.HasExited, w.Output));
    }
}
