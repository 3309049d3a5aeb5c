using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>
/// The fast path of trivial tasks stays exactly-once when nothing fails: every task run once and done, one completion
/// each, nothing left in flight. Its speed is the `throughput` benchmark's business, not a test's.
/// </summary>
public abstract class ThroughputFactsBase(TestRedisServer server, ITestOutputHelper output)
{
    [Fact]
    public async Task TrivialTasks_TwoWorkers_EachDoneExactlyOnce()
    {
        var run = await ThroughputScenario.RunAsync(server, workers: 2, tasks: 3_000, TimeSpan.FromMinutes(2));

        output.WriteLine(run.Describe());
        Assert.True(run.Ledger.AllDone, run.Describe());
        Assert.Equal(0, run.Ledger.Duplicates);
        Assert.Equal(3_000, run.Runs); // each run once, not only stored once
        Assert.Equal(0, run.Ledger.DeadLetters);
        Assert.All(run.ExitCodes, code => Assert.Equal(0, code));
    }
}

[Collection(HeavyLanes.Second)]
public sealed class ThroughputFacts(RedisServer server, ITestOutputHelper output)
    : ThroughputFactsBase(server, output), IClassFixture<RedisServer>;

/// <summary>The same on the embedded default's server: Garnet runs the worker's take-and-store scripts too.</summary>
[Collection(HeavyLanes.Second)]
public sealed class ThroughputFacts_Garnet(GarnetServer server, ITestOutputHelper output)
    : ThroughputFactsBase(server, output), IClassFixture<GarnetServer>;
