using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A real three-primary Redis Cluster, real worker processes given one node's address, and a producer: the queue's slot
/// is moved to another primary, a few keys at a time, while the workers take and store and the producer enqueues. Every
/// acknowledged task must end done on the new owner, none dead-lettered, no worker gone.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class ClusterReshardFacts(ITestOutputHelper output)
{
    [Fact]
    public async Task QueueSlotMovedToAnotherPrimary_WhileWorkersRunAndTasksArrive_EveryTaskIsDone()
    {
        var cluster = new RedisCluster();
        try
        {
            await cluster.InitializeAsync();
            var run = await ClusterReshardScenario.RunAsync(cluster, tasks: 1_500, workerCount: 3, moves: 1, TimeSpan.FromSeconds(120), output.WriteLine);
            output.WriteLine(run.Describe());

            Assert.True(run.KeysMoved > 300, $"the slot held the records of the tasks done so far, but only {run.KeysMoved} keys moved");
            Assert.Empty(run.Ledger.Missing);
            Assert.Equal(0, run.Ledger.DeadLetters);
            Assert.True(run.WorkersExited == 0, $"a worker exited during the move:\n{run.ExitedOutput}");
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
