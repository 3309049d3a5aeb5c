using Microsoft.AspNetCore.SignalR.Client;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Api;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Web;

/// <summary>The SignalR hub, through the real SignalR client over HTTP.</summary>
public sealed class HubFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;
    private HubConnection _hub = default!;

    public async Task InitializeAsync()
    {
        _app = await DashboardApp.StartAsync(server, _queue);
        _hub = new HubConnectionBuilder().WithUrl(_app.BaseAddress + "/hubs/queue").Build();
        await _hub.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task StreamCompletions_DeliversATaskCompletedByAWorker()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stream = _hub.StreamAsync<TaskResult>("StreamCompletions", cts.Token);
        var first = ReadFirstAsync(stream);

        // A real worker completes a real task. The server subscribes when the stream starts, and a completion published
        // before that is not the stream's: another task goes in until one is delivered.
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, _queue));
        await Eventually.WaitAsync(async () =>
        {
            await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, "1234");
            return await first.EndsWithinAsync(TimeSpan.FromSeconds(2));
        }, TimeSpan.FromSeconds(60), "a completion on the hub");
        var result = await first;
        Assert.Equal(1234, result.Iterations);
        Assert.Equal(PiOps.Shared.Pi.LeibnizPi.Compute(1234).ToString(), result.Pi);
    }

    [Fact]
    public async Task StreamStats_FollowsTheQueueDepth()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = _hub.StreamAsync<QueueStats>("StreamStats", cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await stream.MoveNextAsync());
        Assert.Equal(0, stream.Current.Depth); // the current statistics come first
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, ["1", "2", "3"]);

        var sawThree = Task.Run(async () =>
        {
            while (await stream.MoveNextAsync())
            {
                if (stream.Current.Depth == 3)
                {
                    return true;
                }
            }

            return false;
        });
        Assert.True(await sawThree.Within(TimeSpan.FromSeconds(30), "depth 3 on the stats stream"));
    }

    private static async Task<T> ReadFirstAsync<T>(IAsyncEnumerable<T> stream)
    {
        await foreach (var item in stream)
        {
            return item;
        }

        throw new InvalidOperationException("stream ended");
    }
}
