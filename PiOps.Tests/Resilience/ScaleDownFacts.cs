using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>Graceful scale-down during a run loses no task and runs none twice.</summary>
[Collection(HeavyLanes.Second)]
public sealed class ScaleDownFacts(RedisServer server, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task ScalingDown_4To2To1_DuringARun_LosesAndDuplicatesNoTask()
    {
        var run = await ScaleDownScenario.RunAsync(server, tasks: 2_000, replicas: [4, 2, 1], TimeSpan.FromMinutes(3), output.WriteLine);

        output.WriteLine(run.Describe());
        Assert.True(run.Ledger.AllDone, run.Describe());
        Assert.Equal(0, run.Ledger.Duplicates);
        Assert.Equal(0, run.Ledger.Recovered); // every stopping worker gave its entries back itself
        Assert.Equal(0, run.Ledger.DeadLetters);
        Assert.Equal(1, run.Ledger.MaxAttempt);
    }
}
