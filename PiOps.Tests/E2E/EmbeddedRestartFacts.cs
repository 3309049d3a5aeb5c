using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>The embedded default keeps queued tasks on disk: a stop or a crash of the dashboard loses none.</summary>
[Collection(HeavyLanes.Second)]
public sealed class EmbeddedRestartFacts
{
    private static readonly QueueKeys Keys = new("queue:task");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DashboardRestart_KeepsEveryQueuedTask(bool crash)
    {
        string data = Directory.CreateTempSubdirectory("piops-restart-").FullName;
        string[] entries = Enumerable.Range(1, 1000).Select(i => i.ToString()).ToArray();
        await using (var first = await DashboardProcess.StartAsync(data))
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(first.RedisConfiguration);
            await redis.GetDatabase().ListRightPushAsync(Keys.Queue, entries.Select(e => (RedisValue)e).ToArray());
            if (crash)
            {
                await first.KillAsync();
            }
            else
            {
                await first.StopAsync();
            }
        }

        await using var second = await DashboardProcess.StartAsync(data);
        await using var again = await ConnectionMultiplexer.ConnectAsync(second.RedisConfiguration);
        var kept = await again.GetDatabase().ListRangeAsync(Keys.Queue);
        Assert.Equal(entries, kept.Select(v => (string)v!));
        await second.KillAsync();
        Directory.Delete(data, recursive: true);
    }
}
