using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Logs;

/// <summary>Logs of real worker processes of the local runtime: pods attached as they appear, marked as they go, and the hub.</summary>
[Collection(HeavyLanes.Second)]
public sealed class LocalLogFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-logs-").FullName;
    private DashboardApp _app = default!;

    public async Task InitializeAsync() =>
        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 1, restartDelay: "00:00:00.2");

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Deployment_NewPodsAreAttached_GonePodsMarked_LinesInTimeOrder()
    {
        var tailer = _app.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(_app.Workloads, tailer, new LogTarget(LogTargetKind.Deployment, "pi-worker"), 1_000, 100);
        string Describe() => string.Join(", ", session.Pods.Select(p => $"{p.Name} gone={p.Gone}")) + " | " + string.Join(" | ", session.Lines.Select(l => l.Pod + ": " + l.Text));

        await Eventually.WaitAsync(() => session.Pods.Count == 1 && session.Lines.Any(l => l.Text.StartsWith("starting")), Wait, Describe);

        await _app.Workloads.ScaleAsync(2);
        await Eventually.WaitAsync(() => session.Pods.Count(p => !p.Gone) == 2 && session.Lines.Count(l => l.Text.StartsWith("starting")) == 2, Wait, Describe);

        await _app.Workloads.ScaleAsync(1);
        await Eventually.WaitAsync(() => session.Pods.Count(p => p.Gone) == 1, Wait, Describe);
        var lines = session.Lines;
        Assert.True(lines.Zip(lines.Skip(1)).All(p => p.First.At <= p.Second.At), "lines in time order");
        // The pod that went said goodbye on SIGTERM before it was marked gone.
        var gone = session.Pods.Single(p => p.Gone).Name;
        Assert.Contains(lines, l => l.Pod == gone && l.Text.Contains("signal", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("/hubs/logs")]
    [InlineData("/hubs/queue")] // where clients found the log streams before the logs hub
    public async Task Hub_StreamsTheLogLinesOfALabelSelector_ToASignalRClient(string route)
    {
        await Eventually.WaitAsync(() => _app.Workloads.Current.Workers.Ready == 1, Wait, "a ready pod");
        await using var hub = new HubConnectionBuilder().WithUrl(_app.BaseAddress + route).Build();
        await hub.StartAsync();
        using var cts = new CancellationTokenSource(Wait);

        var received = new List<LogLine>();
        var reading = Task.Run(async () =>
        {
            // A label selector, as `kubectl logs -l pod=pi` or stern would take it: the local pods carry the book's labels.
            await foreach (var line in hub.StreamAsync<LogLine>("StreamLogs", "selector/pod=pi", 50, cts.Token))
            {
                received.Add(line);
                if (line.Text.StartsWith("got task: 4321", StringComparison.Ordinal))
                {
                    return;
                }
            }
        });
        await server.Db.ListRightPushAsync(new PiOps.Shared.Queue.QueueKeys(_queue).Queue, "4321");

        await reading.WaitAsync(Wait);
        Assert.Contains(received, l => l.Text.StartsWith("starting", StringComparison.Ordinal));
        Assert.All(received, l => Assert.StartsWith("pi-worker-", l.Pod));
        var error = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in hub.StreamAsync<LogLine>("StreamLogs", "service/redis", 10, cts.Token))
            {
            }
        });
        Assert.Contains("is not something to tail", error.Message);
        error = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in hub.StreamAsync<LogLine>("StreamLogs", "selector/pod in pi", 10, cts.Token))
            {
            }
        });
        Assert.Contains("not a label requirement", error.Message);
    }
}
