using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Bench;

/// <summary>
/// 1,000,000 tasks through TaskProducer (the dashboard's and API's enqueue: envelopes with batch records, pipelined
/// all-or-nothing batches) against the embedded Garnet and a redis-server, next to a baseline in the same run:
/// 1,000,000 plain values with pipelined multi-value RPUSH, the least work that enqueues that many.
/// Goal: at most 1.5 s on Garnet and 0.75 s on redis-server, best of 5 rounds (the machine is shared); every
/// envelope must be in the queue, and a sample of ids must each find their envelope and their 'queued' record.
/// </summary>
internal static class EnqueueBenchmark
{
    private const int Rounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        bool ok = true;
        using (var garnet = EmbeddedGarnet.Start(FreePort(), null))
        {
            ok &= await MeasureAsync("embedded Garnet", garnet.Endpoint, count, goalSeconds: 1.5);
        }

        using var redis = StartRedis();
        if (redis is not null)
        {
            ok &= await MeasureAsync("redis-server", $"127.0.0.1:{redis.Port}", count, goalSeconds: 0.75);
        }

        Console.WriteLine(ok ? "goal met on every server" : "GOAL MISSED");
        return ok ? 0 : 1;
    }

    private static async Task<bool> MeasureAsync(string name, string endpoint, int count, double goalSeconds)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(endpoint + ",syncTimeout=30000,asyncTimeout=30000");
        var db = mux.GetDatabase();
        var options = new QueueOptions { QueueName = "bench:" + Guid.NewGuid().ToString("N")[..8] };
        var keys = new QueueKeys(options.QueueName);
        var producer = new TaskProducer(mux, options);
        var tasks = Enumerable.Repeat(5_000_000L, count).ToArray();
        await producer.EnqueueAsync(tasks.Take(10_000).ToArray()); // warm-up
        await db.ExecuteAsync("FLUSHALL");

        var baselines = new List<double>();
        var figures = new List<double>();
        bool traceable = true;
        long length = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var baseline = Stopwatch.StartNew();
            var pending = new List<Task>();
            var plain = (RedisValue)"5000000";
            for (int i = 0; i < count; i += 1000)
            {
                pending.Add(db.ListRightPushAsync("bench:baseline", Enumerable.Repeat(plain, Math.Min(1000, count - i)).ToArray()));
            }

            await Task.WhenAll(pending);
            baselines.Add(baseline.Elapsed.TotalSeconds);
            await db.ExecuteAsync("FLUSHALL");

            var sw = Stopwatch.StartNew();
            var ids = await producer.EnqueueAsync(tasks);
            figures.Add(sw.Elapsed.TotalSeconds);
            length = await db.ListLengthAsync(options.QueueName);
            traceable &= length == count && await TraceableAsync(db, keys, ids);
            await db.ExecuteAsync("FLUSHALL");
        }

        double figure = figures.Min(), baselineFigure = baselines.Min();
        bool ok = figure <= goalSeconds && traceable;
        Console.WriteLine($"{name,-16} TaskProducer {count:N0} envelopes + batch records: best {figure:F2} s ({count / figure:N0}/s; rounds {string.Join(", ", figures.Select(f => f.ToString("F2")))}); " +
                          $"baseline plain RPUSH, same run: best {baselineFigure:F2} s; ratio {figure / baselineFigure:F1}x; goal {goalSeconds} s: {(figure <= goalSeconds ? "met" : "MISSED")}; " +
                          $"queue length {length:N0}, sampled ids traceable: {(traceable ? "yes" : "NO")}");
        return ok;
    }

    // Every 997th task's batch record answers 'queued' for its id, as the Tasks page and GET /api/tasks/{id} do; and
    // tasks around batch edges, the middle and the end find their own envelope where their index says. (Few of
    // those: LINDEX walks the list, and a thousand walks of a million entries take Garnet longer than the enqueue.)
    private static async Task<bool> TraceableAsync(IDatabase db, QueueKeys keys, IReadOnlyList<string> ids)
    {
        int n = ids.Count;
        var sample = Enumerable.Range(0, n).Where(i => i % 997 == 0 || i == n - 1).ToList();
        var batches = sample.Select(i => TaskIds.TryGetBatch(ids[i], out string b) ? db.HashGetAllAsync(keys.Batch(b)) : null).ToList();
        for (int j = 0; j < sample.Count; j++)
        {
            var status = batches[j] is { } t ? TaskStatusRecord.FromBatch(ids[sample[j]], await t, null) : null;
            if (status?.State != TaskState.Queued)
            {
                Console.WriteLine($"task {sample[j]} ({ids[sample[j]]}) has no 'queued' record: {status?.State}");
                return false;
            }
        }

        int[] placed = [0, 1, 999, 1000, 1001, n / 2, n - 1001, n - 1000, n - 2, n - 1];
        foreach (int i in placed.Where(i => i >= 0 && i < n).Distinct())
        {
            long index = i < n / 2 ? i : i - n; // from the nearer end
            var raw = await db.ListGetByIndexAsync(keys.Queue, index);
            if (TaskEntry.Parse((string)raw!, new QueueOptions()).Task?.Id != ids[i])
            {
                Console.WriteLine($"task {i} ({ids[i]}) is not where its index says: {raw}");
                return false;
            }
        }

        return true;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private static RedisProcess? StartRedis()
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            Console.WriteLine("redis-server not installed: skipping it (apt-get install redis-server)");
            return null;
        }

        return new RedisProcess(FreePort());
    }

    private sealed class RedisProcess : IDisposable
    {
        private readonly Process _p;

        public RedisProcess(int port)
        {
            Port = port;
            _p = Process.Start(new ProcessStartInfo("/usr/bin/redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
            {
                RedirectStandardOutput = true,
            })!;
            Thread.Sleep(300);
        }

        public int Port { get; }

        public void Dispose()
        {
            _p.Kill();
            _p.WaitForExit();
        }
    }
}
