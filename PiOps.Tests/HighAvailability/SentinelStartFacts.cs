using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A worker started through Sentinel while the Sentinels do not answer (hung, or too slow on a busy machine to name the
/// primary within the connect timeout) waits, saying so, and takes tasks once they answer. StackExchange.Redis throws
/// from the connect in that case ("Sentinel: Failed connecting to configured primary"); the worker used to die of it
/// with an unhandled exception, seen in a failover benchmark on a busy machine as four workers gone before their first
/// task.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class SentinelStartFacts(ITestOutputHelper output)
{
    private const string Waiting = "not connected, no Sentinel has named a primary that answers";

    /// <summary>The dashboard's start goes through the same connector: it waits the same way, then works.</summary>
    [Fact]
    public async Task Connector_WhileNoSentinelAnswers_SaysSoEachAttempt_AndConnectsOnceTheyDo()
    {
        var group = new SentinelGroup(replicas: 0, sentinels: 1);
        try
        {
            await group.InitializeAsync();
            group.PauseSentinels();
            var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
            // A short connect timeout keeps each attempt short; the attempts are what is tested, not StackExchange.Redis' timing.
            var connecting = RedisConnector.ConnectAsync(() =>
            {
                var o = group.Settings.ToConfigurationOptions("piops-test");
                o.ConnectTimeout = 1000;
                return o;
            }, said.Enqueue);
            await Eventually.WaitAsync(() => said.Count >= 2 || connecting.IsCompleted, TimeSpan.FromSeconds(90),
                () => $"two attempts told: {string.Join("\n", said)}");
            Assert.False(connecting.IsCompleted, connecting.Exception?.ToString() ?? "connected while no sentinel answered");
            Assert.All(said, line => Assert.Contains(Waiting, line));
            Assert.Contains("attempt 2, trying again in 1 s", said.ElementAt(1));

            group.ContinueSentinels();
            await using var client = await connecting.Within(TimeSpan.FromSeconds(90), "connected once the sentinel answers");
            await client.GetDatabase().StringSetAsync("piops-test:connected", "yes");
            Assert.Equal("yes", await client.GetDatabase().StringGetAsync("piops-test:connected"));
            Assert.Equal(group.InitialPrimaryPort, ((System.Net.IPEndPoint)client.GetEndPoints().First(e => !client.GetServer(e).IsReplica)).Port);
        }
        finally
        {
            await group.DisposeAsync();
        }
    }

    [Fact]
    public async Task Worker_StartedWhileNoSentinelAnswers_WaitsSayingWhy_ThenTakesTasks()
    {
        // One sentinel and no replica: nothing can be promoted, so the primary stays the primary whatever the sentinel
        // thinks of it after its pause.
        var group = new SentinelGroup(replicas: 0, sentinels: 1);
        WorkerProcess? worker = null;
        try
        {
            await group.InitializeAsync();
            group.PauseSentinels();
            string queue = TestRedisServer.NewQueueName();
            worker = WorkerProcess.Start(new Dictionary<string, string?>
            {
                ["REDIS_SENTINELS"] = group.SentinelsSetting,
                ["REDIS_SENTINEL_SERVICE"] = SentinelGroup.Service,
                ["QUEUE_NAME"] = queue,
                ["POP_TIMEOUT_SECONDS"] = "1",
                ["HEARTBEAT_TTL_SECONDS"] = "3",
            });

            // Two attempts told, and still running: it waits rather than dies.
            await Eventually.WaitAsync(() => worker.ErrorLines.Count(l => l.Contains(Waiting, StringComparison.Ordinal)) >= 2 || worker.HasExited,
                TimeSpan.FromSeconds(90), () => $"the worker saying twice that it waits for a primary\n{worker.Output}");
            Assert.False(worker.HasExited, $"the worker exited with {(worker.HasExited ? worker.ExitCode : 0)}\n{worker.Output}");
            string said = worker.ErrorLines.First(l => l.Contains(Waiting, StringComparison.Ordinal));
            output.WriteLine(said);
            Assert.Contains($"Redis Sentinel service {SentinelGroup.Service} via 127.0.0.1:{group.SentinelPorts[0]}", said);

            group.ContinueSentinels();
            await using var client = await RedisConnector.ConnectAsync(() => group.Settings.ToConfigurationOptions("piops-test"), output.WriteLine);
            var keys = new QueueKeys(queue);
            await new TaskProducer(client, new QueueOptions { QueueName = queue }).EnqueueAsync([1000]);
            await Eventually.WaitAsync(async () => (long?)await client.GetDatabase().HashGetAsync(keys.Stats, "done") == 1,
                TimeSpan.FromSeconds(90), () => $"the task done by the worker that waited\n{worker.Output}\n{group.Log}");
            Assert.False(worker.HasExited, worker.Output);
        }
        finally
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }

            await group.DisposeAsync();
        }
    }
}
