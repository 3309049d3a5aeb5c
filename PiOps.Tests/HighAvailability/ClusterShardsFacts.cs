using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using Xunit;

namespace PiOps.Tests.HighAvailability;

/// <summary>On a real three-primary Redis Cluster, each queue lives whole on the shard that owns its list's slot, so several queues spread over the shards.</summary>
public sealed class ClusterShardsFacts(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task TwoQueues_OnDifferentShards_EachKeepsEveryKeyOnItsOwn_AndBothRun()
    {
        // Queue names until two hash to slots of different primaries, as two teams' queues would.
        var queues = new List<(string Name, int Owner)>();
        while (queues.Select(q => q.Owner).Distinct().Count() < 2)
        {
            string name = TestRedisServer.NewQueueName();
            queues.Add((name, await cluster.OwnerAsync(name)));
        }

        var first = queues[0];
        var second = queues.First(q => q.Owner != first.Owner);
        foreach (var (name, owner) in new[] { first, second })
        {
            var options = new QueueOptions { QueueName = name };
            var keys = new QueueKeys(name);
            await new TaskProducer(cluster.Client, options).EnqueueAsync([1000, 2000]);
            var worker = new WorkerQueue(cluster.Client, cluster.Client, options, "w-" + owner);
            Assert.NotNull(await worker.TakeAsync(TimeSpan.FromSeconds(5)));

            // Every key the queue has now, on the owner of its list's slot.
            foreach (var key in new[] { keys.Queue, keys.Stats, keys.InFlight("w-" + owner) })
            {
                Assert.Equal(owner, await cluster.OwnerAsync(key));
                Assert.True(await cluster.Db.KeyExistsAsync(key), $"{key} missing");
            }

            Assert.Equal(1, await cluster.Db.ListLengthAsync(keys.Queue));
        }
    }
}
