using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Tests.HighAvailability;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using StackExchange.Redis;

namespace PiOps.Bench;

/// <summary>
/// The high-availability runs of issue 18 at full size: Sentinel failovers, Redis Cluster reshards and network
/// partitions, each against real processes. Each prints its account (tasks, events, done, lost, duplicates, results
/// refused by the fence) and exits 1 if an acknowledged task was lost.
/// </summary>
internal static class HighAvailabilityBenchmarks
{
    /// <summary>reshard [tasks=20000] [moves=3]: the queue's slot moved from primary to primary while 4 workers run.</summary>
    public static async Task<int> ReshardAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        int moves = args.Length > 1 ? int.Parse(args[1]) : 3;
        var cluster = new RedisCluster();
        await cluster.InitializeAsync();
        try
        {
            var run = await ClusterReshardScenario.RunAsync(cluster, tasks, workerCount: 4, moves, TimeSpan.FromMinutes(20), Console.WriteLine);
            Console.WriteLine(run.Describe());
            return Verdict(run.NothingLost);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// failover [tasks=20000] [failovers=3] [wait-replicas=1]: a primary, 2 replicas, 3 sentinels, 4 workers and a
    /// producer, all through the sentinels with REDIS_WAIT_REPLICAS as given; the primary is SIGKILLed
    /// <c>failovers</c> times during the run, each time brought back as a replica once another is promoted. The sentinels
    /// take a primary for down after 1 s without an answer, so a busy machine adds failovers of its own.
    /// </summary>
    public static async Task<int> FailoverAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        int failovers = args.Length > 1 ? int.Parse(args[1]) : 3;
        int waitReplicas = args.Length > 2 ? int.Parse(args[2]) : 1;
        const int batch = 100;
        var group = new SentinelGroup(replicas: 2, sentinels: 3);
        var workers = new List<WorkerProcess>();
        var clock = Stopwatch.StartNew();
        try
        {
            await group.InitializeAsync();
            string queue = TestRedisServer.NewQueueName();
            var options = new QueueOptions { QueueName = queue, WaitReplicas = waitReplicas, WaitTimeout = TimeSpan.FromSeconds(1) };
            var clientOptions = group.Settings.ToConfigurationOptions("piops-bench");
            clientOptions.AllowAdmin = true; // INFO replication, to wait for the replicas between failovers
            await using var client = await ConnectionMultiplexer.ConnectAsync(clientOptions);
            var env = new Dictionary<string, string?>
            {
                ["REDIS_SENTINELS"] = group.SentinelsSetting,
                ["REDIS_SENTINEL_SERVICE"] = SentinelGroup.Service,
                ["QUEUE_NAME"] = queue,
                ["POP_TIMEOUT_SECONDS"] = "1",
                ["HEARTBEAT_TTL_SECONDS"] = "3",
                ["REDIS_WAIT_REPLICAS"] = waitReplicas.ToString(),
                ["REDIS_WAIT_TIMEOUT_MS"] = "1000",
            };
            for (int i = 0; i < 4; i++)
            {
                workers.Add(WorkerProcess.Start(env));
            }

            // Paced, so the enqueues span the failovers instead of ending before the first.
            var producer = new AcknowledgedProducer(new TaskProducer(client, options), batch, TimeSpan.FromMilliseconds(40));
            var producing = Task.Run(() => producer.RunAsync(() => producer.Count < tasks, afterFailure: () => AcknowledgedProducer.UntilAPrimaryAnswersAsync(client)));

            for (int f = 1; f <= failovers; f++)
            {
                int at = tasks * f / (failovers + 1);
                await Eventually.WaitAsync(() => producer.Count >= at || producing.IsCompleted, TimeSpan.FromMinutes(5), $"{at} tasks acknowledged");
                int killed = await group.KillPrimaryAsync();
                int promoted = 0;
                await Eventually.WaitAsync(async () => (promoted = await group.PrimaryPortAsync()) != killed, TimeSpan.FromMinutes(1),
                    () => $"a replica promoted in place of {killed}\n{group.Log}");
                await group.RestartAsReplicaAsync(killed);
                // The next kill only once both replicas are back and in sync, as an operator's next failure would find them.
                await Eventually.WaitAsync(async () =>
                {
                    try
                    {
                        string info = (await client.GetServer("127.0.0.1", promoted).InfoRawAsync("replication")) ?? "";
                        return info.Contains("connected_slaves:2") && !info.Contains("state=wait_bgsave") && !info.Contains("state=send_bulk");
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        return false;
                    }
                }, TimeSpan.FromMinutes(1), () => $"two replicas in sync with {promoted}\n{group.Log}");
                Console.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: failover {f}: {killed} killed after {producer.Count:N0} acknowledged, {promoted} promoted, {killed} back as a replica");
            }

            await producing.WaitAsync(TimeSpan.FromMinutes(10));
            var acknowledged = producer.Acknowledged;
            var ledger = new TaskLedger(client, queue, acknowledged);
            LedgerReport report;
            try
            {
                report = await ledger.WaitUntilCompleteAsync(TimeSpan.FromMinutes(3), () => group.Log);
            }
            catch (TimeoutException ex)
            {
                // Tasks lost: the account below says how many, the sentinels' log when, and the workers' own output why.
                Console.WriteLine(ex.Message);
                report = await ledger.ReadAsync();
                foreach (var w in workers)
                {
                    Console.WriteLine($"--- worker {w.Pid}: {(w.HasExited ? $"exited with {w.ExitCode}" : "running")}, last lines:");
                    Console.WriteLine(string.Join("\n", w.Lines.TakeLast(15).Concat(w.ErrorLines.TakeLast(15))));
                }
            }

            long doneRecords = await TaskLedger.CountDoneAsync(client, queue);
            Console.WriteLine($"{failovers} failovers made, {await group.FailoversAsync()} counted by the sentinels, in {clock.Elapsed.TotalSeconds:F0} s: " +
                              $"REDIS_WAIT_REPLICAS={waitReplicas}, {acknowledged.Count:N0} tasks acknowledged, " +
                              $"{producer.Unconfirmed:N0} sent but not acknowledged, {producer.FailedCalls} enqueue calls failed and retried");
            Console.WriteLine($"{report.Describe()}; duplicates: {report.Completions - doneRecords:N0} ({report.Completions:N0} stores of {doneRecords:N0} tasks done)");
            return Verdict(report.AllDone && report.DeadLetters == 0);
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

    /// <summary>The worker's id, from its first line ("starting (worker ID, queue …)").</summary>
    private static async Task<string> WorkerIdAsync(WorkerProcess worker)
    {
        const string start = "starting (worker ";
        await worker.WaitForLineAsync(l => l.StartsWith(start, StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the worker starting");
        string line = worker.Lines.First(l => l.StartsWith(start, StringComparison.Ordinal));
        return line[start.Length..line.IndexOf(',', start.Length)];
    }

    /// <summary>
    /// partitions [tasks=3000] [cuts=6]: 4 workers, each in a network namespace of its own; one at a time is cut off
    /// from Redis for longer than its heartbeat lives, then reconnected, while tasks of about 0.1 s run.
    /// </summary>
    public static async Task<int> PartitionsAsync(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0]) : 3_000;
        int cuts = args.Length > 1 ? int.Parse(args[1]) : 6;
        var redis = new RedisServer();
        await redis.InitializeAsync();
        var spaces = new List<NetworkNamespace>();
        var workers = new List<WorkerProcess>();
        var clock = Stopwatch.StartNew();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                spaces.Add(await NetworkNamespace.CreateAsync());
            }

            await redis.Client.GetServer(redis.Endpoint).ExecuteAsync("CONFIG", "SET", "bind",
                "127.0.0.1 " + string.Join(" ", spaces.Select(s => s.HostAddress)));
            string queue = TestRedisServer.NewQueueName();
            foreach (var space in spaces)
            {
                var env = WorkerProcess.Env(redis, queue);
                env["REDIS_HOST"] = space.HostAddress.ToString();
                workers.Add(WorkerProcess.Start(space, env));
            }

            var ledger = await TaskLedger.EnqueueAsync(redis.Client, queue, tasks, 200_000_000);
            var random = new Random(42);
            for (int c = 1; c <= cuts; c++)
            {
                await ledger.WaitForCompletionsAsync(tasks * c / (cuts + 2), TimeSpan.FromMinutes(10));
                int which = random.Next(spaces.Count);
                var space = spaces[which];
                string id = await WorkerIdAsync(workers[which]);
                var keys = new QueueKeys(queue);
                var cutAt = clock.Elapsed;
                await space.CutAsync();
                // Cut off until the others have taken the worker for dead: its heartbeat lapsed (3 s) and its in-flight
                // entries recovered by another worker.
                await Eventually.WaitAsync(async () => !await redis.Db.KeyExistsAsync(keys.Heartbeat(id)) && await redis.Db.ListLengthAsync(keys.InFlight(id)) == 0,
                    TimeSpan.FromMinutes(2), $"worker {id} taken for dead and its tasks recovered");
                await space.HealAsync();
                Console.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: cut {c}: {space.Name} (worker {id}) off for {(clock.Elapsed - cutAt).TotalSeconds:F1} s, " +
                                  "until taken for dead and its tasks recovered, then back");
            }

            var report = await ledger.WaitUntilCompleteAsync(TimeSpan.FromMinutes(15));
            var stats = await redis.Db.HashGetAllAsync(new QueueKeys(queue).Stats);
            long fenced = (long?)stats.FirstOrDefault(e => e.Name == "fenced").Value ?? 0;
            int exited = workers.Count(w => w.HasExited);
            Console.WriteLine($"{cuts} cuts in {clock.Elapsed.TotalSeconds:F0} s: {report.Describe()}; {fenced} late result(s) refused by the fence; " +
                              $"{exited} worker(s) exited");
            return Verdict(report.AllDone && report.DeadLetters == 0 && report.Duplicates == 0 && exited == 0);
        }
        finally
        {
            foreach (var w in workers)
            {
                await w.DisposeAsync();
            }

            foreach (var space in spaces)
            {
                await space.DisposeAsync();
            }

            await redis.DisposeAsync();
        }
    }

    /// <summary>
    /// two-dashboards [kills=5] [dead-per-kill=20]: two dashboard processes on one redis-server, leases of 3 s renewed
    /// every second. Each round SIGKILLs the holder of the recovery lease, plants dead workers (registered, no heartbeat,
    /// one task in flight each) while nobody holds it, and starts a new dashboard in the killed one's place. Every
    /// planted task must come back to the queue exactly once, recovered by the survivor.
    /// </summary>
    public static async Task<int> TwoDashboardsAsync(string[] args)
    {
        int kills = args.Length > 0 ? int.Parse(args[0]) : 5;
        int perKill = args.Length > 1 ? int.Parse(args[1]) : 20;
        var ttl = TimeSpan.FromSeconds(3);
        var redis = new RedisServer();
        await redis.InitializeAsync();
        string queue = TestRedisServer.NewQueueName();
        var keys = new QueueKeys(queue);
        var lease = new PiOps.Web.Redis.DashboardKeys(queue).Lease(PiOps.Web.HighAvailability.DashboardLeases.DeadWorkerRecovery);
        var dashboards = new List<DashboardProcess>();
        var takeovers = new List<double>();
        var clock = Stopwatch.StartNew();
        try
        {
            Task<DashboardProcess> StartAsync() => DashboardProcess.StartAsync(env: new Dictionary<string, string>
            {
                ["Leases__Ttl"] = ttl.ToString(),
                ["Leases__RenewInterval"] = "00:00:01",
                ["HOME"] = Directory.CreateTempSubdirectory("piops-pod-").FullName,
                ["REDIS_HOST"] = "127.0.0.1",
                ["REDIS_PORT"] = redis.Port.ToString(),
                ["Queue__QueueName"] = queue,
                ["Queue__HeartbeatTtl"] = "00:00:03",
                ["Dashboard__RecoveryInterval"] = "00:00:01",
            });

            dashboards.Add(await StartAsync());
            dashboards.Add(await StartAsync());
            int planted = 0;
            for (int k = 1; k <= kills; k++)
            {
                string holderId = "";
                await Eventually.WaitAsync(async () => (holderId = (string?)await redis.Db.StringGetAsync(lease) ?? "") != "",
                    TimeSpan.FromSeconds(30), "a dashboard holding the recovery lease");
                var holder = dashboards.Single(d => holderId.Contains($":{d.Pid}:"));
                int holderPid = holder.Pid;
                await holder.KillAsync();
                var killedAt = Stopwatch.StartNew();
                dashboards.Remove(holder);
                await holder.DisposeAsync();
                for (int i = 0; i < perKill; i++, planted++)
                {
                    string worker = $"gone-{k}-{i}";
                    await redis.Db.ListRightPushAsync(keys.InFlight(worker), (1000 + planted).ToString());
                    await redis.Db.SetAddAsync(keys.Workers, worker);
                }

                int target = planted;
                await Eventually.WaitAsync(async () => await redis.Db.ListLengthAsync(keys.Queue) >= target,
                    ttl + TimeSpan.FromSeconds(30), () => $"the survivor recovering round {k}'s dead workers\n{dashboards[0].Output}");
                takeovers.Add(killedAt.Elapsed.TotalSeconds);
                string now = (string?)await redis.Db.StringGetAsync(lease) ?? "";
                Console.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: round {k}: holder {holderPid} killed; {perKill} dead workers' tasks back " +
                                  $"{killedAt.Elapsed.TotalSeconds:F1} s later, lease now held by {now}");
                dashboards.Add(await StartAsync());
            }

            var entries = (await redis.Db.ListRangeAsync(keys.Queue)).Select(v => TaskEntry.Parse((string)v!, new QueueOptions()).Task!.Iterations).ToList();
            int distinct = entries.Distinct().Count();
            long left = 0;
            foreach (var w in await redis.Db.SetMembersAsync(keys.Workers))
            {
                left += await redis.Db.ListLengthAsync(keys.InFlight((string)w!));
            }

            Console.WriteLine($"{kills} lease holders killed in {clock.Elapsed.TotalSeconds:F0} s: {planted} tasks of dead workers, " +
                              $"{distinct} back on the queue, {planted - distinct} lost, {entries.Count - distinct} duplicates, {left} still in flight; " +
                              $"kill to recovery {takeovers.Min():F1}-{takeovers.Max():F1} s (lease TTL {ttl.TotalSeconds:F0} s)");
            return Verdict(distinct == planted && entries.Count == planted && left == 0);
        }
        finally
        {
            foreach (var d in dashboards)
            {
                await d.DisposeAsync();
            }

            await redis.DisposeAsync();
        }
    }

    private static int Count(List<string> ids)
    {
        lock (ids)
        {
            return ids.Count;
        }
    }

    private static int Verdict(bool ok)
    {
        Console.WriteLine(ok ? "no acknowledged task lost" : "TASKS LOST, DEAD-LETTERED OR WORKERS EXITED");
        return ok ? 0 : 1;
    }
}
