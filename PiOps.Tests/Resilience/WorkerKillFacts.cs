using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>At-least-once delivery under SIGKILL: workers killed at random mid-run lose no task.</summary>
[Collection(HeavyLanes.Second)]
public sealed class WorkerKillFacts(RedisServer server, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task RandomSigkills_EveryHalfSecond_LoseNoTask_AndDuplicatesAreCounted()
    {
        int seed = Environment.TickCount;
        var run = await WorkerKillScenario.RunAsync(server, tasks: 5_000, workers: 4, longTask: 1_000_000,
            killEvery: TimeSpan.FromMilliseconds(500), timeout: TimeSpan.FromMinutes(4), seed, output.WriteLine, maxKills: 40);

        output.WriteLine(run.Describe());
        Assert.True(run.Ledger.AllDone, run.Describe());
        Assert.Equal(0, run.Ledger.DeadLetters);
        Assert.True(run.Kills >= 3, $"the run should have seen kills: {run.Describe()}");
        Assert.True(run.Ledger.Completions >= run.Tasks, run.Describe());
        Assert.Empty(run.SelfExits);
    }
}
