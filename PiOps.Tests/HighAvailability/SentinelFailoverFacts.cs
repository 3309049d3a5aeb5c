using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A primary with two replicas and three sentinels, real worker processes and a producer all connected through the
/// sentinels, REDIS_WAIT_REPLICAS=1: the primary is SIGKILLed while tasks are enqueued and run, and every task whose
/// enqueue was acknowledged must end done on the promoted replica.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class SentinelFailoverFacts(ITestOutputHelper output)
{
    private const int Tasks = 3_000;
    private const int Batch = 50;

    [Fact]
    public async Task PrimaryKilled_WhileTasksAreEnqueuedAndRun_EveryAcknowledgedTaskIsDone()
    {
        var group = new SentinelGroup(replicas: 2, sentinels: 3);
        var workers = new List<WorkerProcess>();
        try
        {
            var clock = Stopwatch.StartNew();
            await group.InitializeAsync();
            output.WriteLine($"group ready in {clock.Elapsed.TotalSeconds:F1} s: primary {group.InitialPrimaryPort}, sentinels {group.SentinelsSetting}");
            string queue = TestRedisServer.NewQueueName();
            var options = new QueueOptions { QueueName = queue, WaitReplicas = 1, WaitTimeout = TimeSpan.FromSeconds(1) };
            await using var client = await ConnectionMultiplexer.ConnectAsync(group.Settings.ToConfigurationOptions("piops-test"));
            var keys = new QueueKeys(queue);
            var env = new Dictionary<string, string?>
            {
                ["REDIS_SENTINELS"] = group.SentinelsSetting,
                ["REDIS_SENTINEL_SERVICE"] = SentinelGroup.Service,
                ["QUEUE_NAME"] = queue,
                ["POP_TIMEOUT_SECONDS"] = "1",
                ["HEARTBEAT_TTL_SECONDS"] = "3",
                ["REDIS_WAIT_REPLICAS"] = "1",
                ["REDIS_WAIT_TIMEOUT_MS"] = "1000",
            };
            for (int i = 0; i < 3; i++)
            {
                workers.Add(WorkerProcess.Start(env));
            }

            string Outputs() => string.Join("\n=====\n", workers.Select(w => w.Output.Split('\n').TakeLast(30).Aggregate((a, b) => a + "\n" + b)));
            await Eventually.WaitAsync(async () => (await client.GetDatabase().SetLengthAsync(keys.Workers)) >= 3,
                TimeSpan.FromSeconds(60), () => $"3 workers registered through the sentinels\n{Outputs()}");

            // The producer: batches of tiny tasks, one after another; an enqueue that fails counts only what it reports
            // as acknowledged, and is tried again.
            var producer = new AcknowledgedProducer(new TaskProducer(client, options), Batch, TimeSpan.Zero);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var cutOff = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var producing = Task.Run(() => producer.RunAsync(() => producer.Count < Tasks && !stop.IsCancellationRequested,
                // A third is in: wait here until the replicas are cut off, so the kill always lands mid-run.
                beforeCall: () => producer.Calls == Tasks / 3 / Batch ? cutOff.Task.WaitAsync(stop.Token) : Task.CompletedTask,
                // No primary: try again once one answers (after the failover), within a bound.
                afterFailure: () => AcknowledgedProducer.UntilAPrimaryAnswersAsync(client)));

            // Once a third is acknowledged, the replicas are cut off (a partition) while the producer and the workers go
            // on writing to the primary; two enqueue calls later the primary is SIGKILLed and the replicas come back.
            // What the primary took alone dies with it: only what REDIS_WAIT_REPLICAS made a replica acknowledge may count.
            await Eventually.WaitAsync(() => producer.Calls >= Tasks / 3 / Batch || producing.IsCompleted, TimeSpan.FromSeconds(60), "a third of the tasks enqueued");
            Assert.False(producing.IsCompleted, producing.Exception?.ToString());
            var stopped = await group.PartitionReplicasAsync();
            cutOff.SetResult();
            int before = producer.Calls;
            await Eventually.WaitAsync(() => producer.Calls >= before + 2 || producing.IsCompleted, TimeSpan.FromSeconds(20), "two enqueue calls while the replicas are cut off");
            Assert.False(producing.IsCompleted, producing.Exception?.ToString());
            int killedPort = await group.KillPrimaryAsync();
            group.ContinueReplicas(stopped);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: primary {killedPort} killed while cut off from its replicas, after {producer.Count} acknowledged tasks");
            await producing.Within(TimeSpan.FromSeconds(90), () => $"enqueue stuck at {producer.Count} after {producer.FailedCalls} failures\n{group.Log}");
            var acknowledged = producer.Acknowledged;
            Assert.True(producer.Unconfirmed > 0, "the enqueues made while the replicas were cut off should have been refused acknowledgement");
            // The refusal says why and which settings govern it.
            Assert.Contains("Too few replicas acknowledged the enqueue", producer.FirstRefusal);
            Assert.Contains("(REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS): it is not acknowledged, and a failover now could lose it.", producer.FirstRefusal);

            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {acknowledged.Count} acknowledged, {producer.Unconfirmed} sent but not acknowledged, {producer.FailedCalls} failed enqueue calls");
            // The sentinel asked may learn of the promotion a moment after the clients did.
            int newPrimary = 0;
            await Eventually.WaitAsync(async () => (newPrimary = await group.PrimaryPortAsync()) != killedPort,
                TimeSpan.FromSeconds(30), () => $"a replica promoted in place of {killedPort}\n{group.Log}");

            var ledger = new TaskLedger(client, queue, acknowledged);
            var report = await ledger.WaitUntilCompleteAsync(TimeSpan.FromSeconds(90), () => $"{group.Log}\n{Outputs()}");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {report.Describe()}; primary now {newPrimary}");

            // Duplicates (at least once allows them): stores beyond one per task that is done, whether or not its
            // enqueue was acknowledged.
            int doneTasks = await TaskLedger.CountDoneAsync(client, queue);

            output.WriteLine($"duplicates: {report.Completions - doneTasks} ({report.Completions} stores of {doneTasks} tasks done, " +
                             $"{doneTasks - acknowledged.Count} of them enqueued without acknowledgement)");
            Assert.Empty(report.Missing);
            Assert.Equal(0, report.DeadLetters);
            Assert.True(report.Completions >= doneTasks);
        }
        finally
        {
            foreach (var w in workers)
            {
                await w.DisposeAsync();
            }

            await group.DisposeAsync();
        }
    }
}
