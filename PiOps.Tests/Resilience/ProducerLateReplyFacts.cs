using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>
/// Redis answers an enqueue after the producer's command timeout (frozen with SIGSTOP, then SIGCONT). The tasks did
/// land: the producer must find that out and report success, not a failure that invites a second copy.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class ProducerLateReplyFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task AReplyLaterThanTheTimeout_ForTasksThatLanded_IsASuccess_WithEachTaskOnce()
    {
        string queue = TestRedisServer.NewQueueName();
        var keys = new QueueKeys(queue);
        var settings = new RedisSettings { Host = "127.0.0.1", Port = server.Port };
        await using var slow = await ConnectionMultiplexer.ConnectAsync(settings.ToConfigurationOptions("piops-test-late", TimeSpan.FromSeconds(5)));
        var producer = new TaskProducer(slow, new QueueOptions { QueueName = queue });
        await slow.GetDatabase().PingAsync();

        // A stall that outlasts the enqueue's 5 s timeout (so its reply is late for certain), well inside the lookup
        // that follows (5 s more).
        Task<IReadOnlyList<string>>? enqueue = null;
        await server.StallAsync(TimeSpan.FromSeconds(6), () => enqueue = producer.EnqueueAsync([10, 20, 30]));

        var ids = await enqueue!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, ids.Count);
        var entries = (await server.Db.ListRangeAsync(keys.Queue)).Select(v => TaskEntry.Parse(v!, new QueueOptions()).Task!).ToList();
        Assert.Equal(ids, entries.Select(t => t.Id));
        Assert.Equal(3, (long)await server.Db.HashGetAsync(keys.Stats, "enqueued"));
    }
}
