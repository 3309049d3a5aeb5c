using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.Resilience;

/// <summary>Many producers through the HTTP API at once: every enqueue lands, and the pages stay responsive.</summary>
[Collection(HeavyLanes.Second)]
public sealed class ProducerLoadFacts(VolatileRedisServer redis, ITestOutputHelper output) : IClassFixture<VolatileRedisServer>
{
    [Fact]
    public async Task FiftyConcurrentProducers_AllEnqueuesLand_AndPagesStayResponsive()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = redis.Port.ToString(),
        });

        var run = await ProducerLoadScenario.RunAsync(dashboard.BaseAddress, clients: 50, TimeSpan.FromSeconds(5));

        output.WriteLine(run.Describe());
        Assert.Equal(0, run.Errors);
        Assert.True(run.Requests > 50, run.Describe());
        // Every 201 is a task on the queue (plus the one warm-up enqueue): nothing acknowledged was lost.
        Assert.Equal(run.Requests + 1, await redis.Db.ListLengthAsync(new QueueKeys("queue:task").Queue));
        // A loose bound against the idle figure of the same run: the goal (under 100 ms) is the benchmark's to measure.
        Assert.True(run.LoadedTtfbMedianMs <= run.IdleTtfbMedianMs * 10 + 500, run.Describe());
    }
}
