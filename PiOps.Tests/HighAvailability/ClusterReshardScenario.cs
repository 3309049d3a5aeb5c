using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using StackExchange.Redis;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// Real worker processes given one node of a real Redis Cluster, and a producer: the queue's slot is moved from primary
/// to primary, a few keys at a time, while the workers take and store and the producer enqueues. Run small by
/// <see cref="ClusterReshardFacts"/> and large by <c>./bench/run.sh reshard</c>.
/// </summary>
public static class ClusterReshardScenario
{
    private const int Batch = 25;

    public static async Task<ReshardRun> RunAsync(RedisCluster cluster, int tasks, int workerCount, int moves, TimeSpan timeout, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var workers = new List<WorkerProcess>();
        try
        {
            string queue = TestRedisServer.NewQueueName();
            var keys = new QueueKeys(queue);
            int slot = await cluster.SlotAsync(keys.Queue);
            log($"{queue} is slot {slot} on {await cluster.OwnerAsync(keys.Queue)}");

            var ledger = await TaskLedger.EnqueueAsync(cluster.Client, queue, tasks, 1_000);
            for (int i = 0; i < workerCount; i++)
            {
                workers.Add(WorkerProcess.Start(WorkerProcess.Env(cluster, queue)));
            }

            string Outputs() => string.Join("\n=====\n", workers.Select(w => string.Join("\n", w.Output.Split('\n').TakeLast(25))));
            await ledger.WaitForCompletionsAsync(tasks / 5, timeout);

            // The producer keeps enqueuing while the slot moves; a batch refused mid-move (TRYAGAIN) is tried again.
            var producer = new AcknowledgedProducer(new TaskProducer(cluster.Client, new QueueOptions { QueueName = queue }), Batch,
                TimeSpan.FromMilliseconds(20));
            producer.Add(ledger.Ids);
            using var stop = new CancellationTokenSource();
            var producing = Task.Run(() => producer.RunAsync(() => !stop.IsCancellationRequested));

            var owners = new List<int>();
            long keysMoved = 0;
            for (int m = 0; m < moves; m++)
            {
                int from = await cluster.OwnerAsync(keys.Queue);
                int to = cluster.Ports[(cluster.Ports.ToList().IndexOf(from) + 1) % cluster.Ports.Count];
                int moved = await cluster.MoveSlotAsync(slot, to, batch: 10);
                keysMoved += moved;
                owners.Add(await cluster.OwnerAsync(keys.Queue));
                log($"{clock.Elapsed.TotalSeconds:F1} s: move {m + 1}: slot {slot} from {from} to {to}, {moved} keys");
                if (owners[^1] != to)
                {
                    throw new InvalidOperationException($"slot {slot} is on {owners[^1]} after moving it to {to}\n{cluster.Log}");
                }
            }

            // A little more work on the last owner, then the producer stops.
            int before = producer.Count;
            await Eventually.WaitAsync(() => producer.Count >= before + 2 * Batch,
                TimeSpan.FromSeconds(60), () => $"enqueues reaching the new owner; {producer.FailedCalls} refused\n{cluster.Log}");
            await stop.CancelAsync();
            await producing;

            var report = await new TaskLedger(cluster.Client, queue, producer.Acknowledged).WaitUntilCompleteAsync(timeout, () => $"{cluster.Log}\n{Outputs()}");
            return new ReshardRun(report, moves, keysMoved, producer.FailedCalls, workers.Count(w => w.HasExited), clock.Elapsed,
                workers.Where(w => w.HasExited).Select(w => w.Output).FirstOrDefault());
        }
        finally
        {
            foreach (var w in workers)
            {
                await w.DisposeAsync();
            }
        }
    }
}

/// <param name="Refused">Enqueue calls refused (in whole or in part) while the slot moved: the producer retried them.</param>
public sealed record ReshardRun(LedgerReport Ledger, int Moves, long KeysMoved, int Refused, int WorkersExited, TimeSpan Took, string? ExitedOutput)
{
    public bool NothingLost => Ledger.AllDone && Ledger.DeadLetters == 0 && WorkersExited == 0;

    public string Describe() =>
        $"{Moves} slot move(s), {KeysMoved:N0} keys moved, {Refused} enqueue calls refused mid-move and retried, " +
        $"{WorkersExited} worker(s) exited, in {Took.TotalSeconds:F0} s: {Ledger.Describe()}";
}
