using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Bench;

/// <summary>
/// 1,000,000 tasks through TaskProducer (the dashboard's and API's enqueue: envelopes with status records, pipelined
/// all-or-nothing batches) against the embedded Garnet and a redis-server, next to a baseline in the same run:
/// 1,000,000 plain values with pipelined multi-value RPUSH, the least work that enqueues that many.
/// Goal: at most 3 s for the envelope enqueue on this machine.
/// </summary>
internal static class EnqueueBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        bool ok = true;
        using (var garnet = EmbeddedGarnet.Start(FreePort(), null))
        {
            ok &= await MeasureAsync("embedded Garnet", garnet.Endpoint, count);
        }

        using var redis = StartRedis();
        if (redis is not null)
        {
            ok &= await MeasureAsync("redis-server", $"127.0.0.1:{redis.Port}", count);
        }

        Console.WriteLine(ok ? "goal met: 1,000,000 tasks in under 3 s" : "GOAL MISSED");
        return ok ? 0 : 1;
    }

    private static async Task<bool> MeasureAsync(string name, string endpoint, int count)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(endpoint + ",syncTimeout=30000,asyncTimeout=30000");
        var db = mux.GetDatabase();
        var options = new QueueOptions { QueueName = "bench:" + Guid.NewGuid().ToString("N")[..8] };
        var producer = new TaskProducer(mux, options);
        var tasks = Enumerable.Repeat(5_000_000L, count).ToArray();
        await producer.EnqueueAsync(tasks.Take(10_000).ToArray()); // warm-up
        await db.ExecuteAsync("FLUSHALL");

        var baseline = Stopwatch.StartNew();
        var pending = new List<Task>();
        var plain = (RedisValue)"5000000";
        for (int i = 0; i < count; i += 1000)
        {
            pending.Add(db.ListRightPushAsync("bench:baseline", Enumerable.Repeat(plain, Math.Min(1000, count - i)).ToArray()));
        }

        await Task.WhenAll(pending);
        double baselineSeconds = baseline.Elapsed.TotalSeconds;

        var sw = Stopwatch.StartNew();
        await producer.EnqueueAsync(tasks);
        double seconds = sw.Elapsed.TotalSeconds;
        long length = await db.ListLengthAsync(options.QueueName);
        await db.ExecuteAsync("FLUSHALL");

        Console.WriteLine($"{name,-16} TaskProducer {count:N0} envelopes + status records: {seconds:F2} s ({count / seconds:N0}/s); " +
                          $"baseline plain RPUSH: {baselineSeconds:F2} s; ratio {seconds / baselineSeconds:F1}x; queue length {length:N0}");
        return length == count && seconds < 3;
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
