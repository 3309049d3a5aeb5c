using System.Net;
using System.Net.Sockets;
using System.Text;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Observability;

/// <summary>
/// The worker's METRICS_PORT endpoint as Prometheus meets it: scrapes that start before the worker listens (a pod's
/// first scrape often does), and a port that is taken.
/// </summary>
public sealed class WorkerMetricsEndpointFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ScrapesArrivingWhileTheWorkerStarts_NeitherStopItNorGoUnanswered()
    {
        string queue = TestRedisServer.NewQueueName();
        // Several starts: the listener's start is short, and a scrape must land inside it for the old fault to show.
        for (int round = 1; round <= 4; round++)
        {
            int port = FreePort.Next();
            using var stop = new CancellationTokenSource();
            int answered = 0;
            // Connections from before the worker exists until it has answered: some land while the listener starts.
            var scrapers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                byte[] request = Encoding.ASCII.GetBytes($"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
                byte[] buffer = new byte[64];
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var client = new TcpClient();
                        await client.ConnectAsync(IPAddress.Loopback, port, stop.Token);
                        var stream = client.GetStream();
                        await stream.WriteAsync(request, stop.Token);
                        int read = await stream.ReadAsync(buffer, stop.Token);
                        if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref answered);
                        }
                    }
                    catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                    {
                    }
                }
            })).ToArray();

            await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, queue, ("METRICS_PORT", port.ToString())));
            try
            {
                await Eventually.WaitAsync(() => worker.HasExited || Volatile.Read(ref answered) > 0, Bound,
                    () => $"round {round}: a scrape answered or the worker gone\n{worker.Output}");
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(scrapers);
            }

            Assert.False(worker.HasExited, $"round {round}: the worker stopped while scraped at start\n{worker.Output}");
            // Still a worker: it takes and finishes a task after the scrapes.
            await server.Db.ListRightPushAsync(queue, "1000");
            await worker.WaitForLineAsync(l => l.StartsWith("got task: 1000", StringComparison.Ordinal), Bound,
                $"round {round}: the worker takes a task after its scrapes");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            string text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            Assert.Contains("piops_worker_in_flight", text);
        }
    }

    [Fact]
    public async Task ATakenPort_StopsTheWorker_WithASentenceNamingTheVariable()
    {
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, TestRedisServer.NewQueueName(),
            ("METRICS_PORT", port.ToString())));

        int code = await worker.WaitForExitAsync(Bound);

        Assert.NotEqual(0, code);
        Assert.Contains($"METRICS_PORT {port}", worker.Output);
        Assert.Contains("Choose a free port, or unset METRICS_PORT.", worker.Output);
    }
}
