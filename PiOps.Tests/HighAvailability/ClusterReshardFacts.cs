using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A real three-primary Redis Cluster, real worker processes given one node's address, and a producer: the queue's slot
/// is moved to another primary, a few keys at a time, while the workers take and store and the producer enqueues. Every
/// acknowledged task must end done on the new owner, none dead-lettered; duplicates are reported.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class ClusterReshardFacts(ITestOutputHelper output)
{
    private const int FirstTasks = 1_500;
    private const int Batch = 25;

    [Fact]
    public async Task QueueSlotMovedToAnotherPrimary_WhileWorkersRunAndTasksArrive_EveryTaskIsDone()
    {
        var cluster = new RedisCluster();
        var workers = new List<WorkerProcess>();
        try
        {
            var clock = Stopwatch.StartNew();
            await cluster.InitializeAsync();
            string queue = TestRedisServer.NewQueueName();
            var keys = new QueueKeys(queue);
            int slot = await cluster.SlotAsync(keys.Queue);
            Assert.Equal(slot, await cluster.SlotAsync(keys.Stats));
            int from = await cluster.OwnerAsync(keys.Queue);
            int to = cluster.Ports.First(p => p != from);
            output.WriteLine($"cluster {string.Join(",", cluster.Ports)} ready in {clock.Elapsed.TotalSeconds:F1} s; {queue} is slot {slot} on {from}, moving to {to}");

            var ledger = await TaskLedger.EnqueueAsync(cluster.Client, queue, FirstTasks, 1_000);
            var acknowledged = new List<string>(ledger.Ids);
            for (int i = 0; i < 3; i++)
            {
                workers.Add(WorkerProcess.Start(WorkerProcess.Env(cluster, queue)));
            }

            string Outputs() => string.Join("\n=====\n", workers.Select(w => string.Join("\n", w.Output.Split('\n').TakeLast(25))));
            await ledger.WaitForCompletionsAsync(FirstTasks / 5, TimeSpan.FromSeconds(90));

            // The producer keeps enqueuing while the slot moves; a call refused mid-move (TRYAGAIN) is tried again, and
            // only ids the producer returned count as acknowledged.
            var producer = new TaskProducer(cluster.Client, new QueueOptions { QueueName = queue });
            using var stop = new CancellationTokenSource();
            int refused = 0;
            var producing = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var ids = await producer.EnqueueAsync(Enumerable.Repeat(1_000L, Batch).ToArray());
                        lock (acknowledged)
                        {
                            acknowledged.AddRange(ids);
                        }
                    }
                    catch (EnqueueIncompleteException ex)
                    {
                        lock (acknowledged)
                        {
                            acknowledged.AddRange(ex.Enqueued);
                        }

                        Interlocked.Increment(ref refused);
                    }
                    catch (RedisException)
                    {
                        Interlocked.Increment(ref refused);
                    }

                    await Task.Delay(20);
                }
            });

            int moved = await cluster.MoveSlotAsync(slot, to, pace: TimeSpan.FromMilliseconds(15), batch: 10);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: slot {slot} moved to {to}: {moved} keys");
            Assert.Equal(to, await cluster.OwnerAsync(keys.Queue));
            Assert.True(moved > FirstTasks / 5, $"the slot held the records of the tasks done so far, but only {moved} keys moved");

            // A little more work on the new owner, then the producer stops.
            int before;
            lock (acknowledged)
            {
                before = acknowledged.Count;
            }

            await Eventually.WaitAsync(() => { lock (acknowledged) { return acknowledged.Count >= before + 2 * Batch; } },
                TimeSpan.FromSeconds(60), () => $"enqueues reaching the new owner; {refused} refused\n{cluster.Log}");
            await stop.CancelAsync();
            await producing;

            var final = new TaskLedger(cluster.Client, queue, acknowledged);
            var report = await final.WaitUntilCompleteAsync(TimeSpan.FromSeconds(120), () => $"{cluster.Log}\n{Outputs()}");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {report.Describe()}; {refused} enqueue calls refused during the move");
            Assert.Empty(report.Missing);
            Assert.Equal(0, report.DeadLetters);
            Assert.All(workers, w => Assert.False(w.HasExited, $"a worker exited during the move:\n{w.Output}"));
            Assert.Equal(to, await cluster.OwnerAsync(keys.Stats));
        }
        finally
        {
            foreach (var w in workers)
            {
                await w.DisposeAsync();
            }

            await cluster.DisposeAsync();
        }
    }
}
