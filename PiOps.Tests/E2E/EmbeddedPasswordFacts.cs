using System.Net.Sockets;
using System.Text;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.E2E;

/// <summary>
/// The embedded Garnet asks every client for the random password the dashboard keeps in its data folder (0600): a
/// local process without it is refused, the workers the dashboard starts get it, and the start line says where it is.
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class EmbeddedPasswordFacts
{
    /// <summary>One RESP command on a raw socket, as any local process could send it; returns the first reply line.</summary>
    private static async Task<string> SendAsync(int port, params string[] command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var request = new StringBuilder($"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await reader.ReadLineAsync(cts.Token) ?? "";
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task EmbeddedGarnet_RefusesAClientWithoutThePassword_AndTheDashboardsWorkersStillWork()
    {
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["LocalRuntime__InitialReplicas"] = "1",
        });
        string file = Path.Combine(dashboard.DataDirectory, "redis-password");
        var keys = new QueueKeys("queue:task");

        string write = await SendAsync(dashboard.GarnetPort, "RPUSH", "queue:task", "1000");
        string read = await SendAsync(dashboard.GarnetPort, "LLEN", "queue:task");
        string wrong = await SendAsync(dashboard.GarnetPort, "AUTH", "not-the-password");
        Assert.StartsWith("-", write);
        Assert.StartsWith("-", read);
        Assert.StartsWith("-", wrong);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.True(dashboard.RedisPassword.Length >= 32);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
        var db = redis.GetDatabase();
        Assert.Equal(0, await db.ListLengthAsync(keys.Queue));
        await db.ListRightPushAsync(keys.Queue, ["100000", "200000"]);
        await Eventually.WaitAsync(async () => await db.ListLengthAsync(keys.Results) == 2,
            TimeSpan.FromSeconds(60), () => $"the dashboard's own worker to do the tasks\n{dashboard.Output}");

        string start = dashboard.Output.Split('\n').Single(l => l.StartsWith("PiOps dashboard listening on", StringComparison.Ordinal));
        Assert.Contains($"REDIS_PASSWORD=\"$(cat '{file}')\"", start);
        Assert.DoesNotContain(dashboard.RedisPassword, dashboard.Output);
    }
}
