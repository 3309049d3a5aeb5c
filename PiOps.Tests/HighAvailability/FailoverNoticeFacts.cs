using PiOps.Tests.Infrastructure;
using PiOps.Web.Queue;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// The dashboard through Sentinel shows the topology (the primary, its replicas and how far behind they are) and a
/// failover as an event: the replica that took over, in place of which primary, the queue's data carried on. Real
/// redis-server and redis-sentinel processes; the primary is SIGKILLed.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class FailoverNoticeFacts(ITestOutputHelper output)
{
    [Fact]
    public async Task PrimaryKilled_TheDashboardShowsTheFailover_AndTheNewPrimaryWithItsReplica()
    {
        var group = new SentinelGroup(replicas: 2, sentinels: 3);
        try
        {
            await group.InitializeAsync();
            int first = group.InitialPrimaryPort;
            await using var app = await DashboardApp.StartAsync(TestRedisServer.NewQueueName(), new Dictionary<string, string?>
            {
                ["Redis:Sentinels"] = group.SentinelsSetting,
                ["Redis:SentinelService"] = SentinelGroup.Service,
            });
            var monitor = app.Services.GetService(typeof(QueueMonitor)) as QueueMonitor
                ?? throw new InvalidOperationException("no QueueMonitor");
            string Seen() => $"topology: {monitor.Current.Topology?.Describe() ?? "(none)"}\nnotice: {monitor.Current.Notice?.Message ?? "(none)"}\n{group.Log}";

            await Eventually.WaitAsync(() => monitor.Current.Topology is { } t && t.Primary.EndsWith($":{first}", StringComparison.Ordinal)
                    && t.Replicas.Count == 2 && t.Replicas.All(r => r.State == "online"),
                TimeSpan.FromSeconds(60), () => "the primary and two online replicas\n" + Seen());
            Assert.Null(monitor.Current.Notice);

            int killed = await group.KillPrimaryAsync();
            output.WriteLine($"killed the primary on {killed} at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
            await Eventually.WaitAsync(() => monitor.Current.Notice is { FailedOver: true } && monitor.Current.RedisAvailable,
                TimeSpan.FromSeconds(90), () => "a failover notice\n" + Seen());

            int promoted = -1;
            await Eventually.WaitAsync(async () => (promoted = await group.PrimaryPortAsync()) != killed && promoted > 0,
                TimeSpan.FromSeconds(60), () => "the sentinels naming the promoted replica\n" + Seen());
            var notice = monitor.Current.Notice!;
            output.WriteLine(notice.Message);
            Assert.NotEqual(killed, promoted);
            Assert.False(notice.DataLost, notice.Message);
            Assert.Contains($"Redis failed over", notice.Message);
            Assert.Contains($":{promoted} is the primary now, in place of 127.0.0.1:{killed}", notice.Message);
            // The topology follows: the primary the sentinels name (should they fail over again on a busy machine, the
            // one they name then, with that failover as the last one noticed) and a replica online.
            await Eventually.WaitAsync(async () => monitor.Current.Topology is { } t && await group.PrimaryPortAsync() is var now
                    && t.Primary.EndsWith($":{now}", StringComparison.Ordinal) && t.LastFailover is { FailedOver: true } last
                    && (now == promoted ? last == notice : last.Message.Contains($":{now} is the primary now"))
                    && t.Replicas.Any(r => r.State == "online"),
                TimeSpan.FromSeconds(60), () => "the new primary with its remaining replica\n" + Seen());
            Assert.Contains("last failover noticed at", monitor.Current.Topology!.Describe());
        }
        finally
        {
            await group.DisposeAsync();
        }
    }
}
