using System.Diagnostics;
using PiOps.Web.Redis;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.Infrastructure;

/// <summary>A Redis-compatible server the tests talk to for real: redis-server or the embedded Garnet.</summary>
public abstract class TestRedisServer : IAsyncLifetime
{
    private ConnectionMultiplexer? _client;

    public abstract string Name { get; }

    public int Port { get; protected set; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>A shared client for test assertions and setup.</summary>
    public IConnectionMultiplexer Client => _client ?? throw new InvalidOperationException("server not started");

    public IDatabase Db => Client.GetDatabase();

    public async Task InitializeAsync()
    {
        Port = FreePort.Next();
        await StartAsync();
        await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(20), () => Name);
        var options = ConfigurationOptions.Parse(Endpoint);
        options.AbortOnConnectFail = false;
        options.ConnectRetry = 5;
        options.AllowAdmin = true; // tests read INFO and restart servers
        // The tests' own client checks outcomes, not latency: on a busy CI machine a command can wait several seconds
        // for the test process to be scheduled, and that is no finding about the product.
        options.AsyncTimeout = options.SyncTimeout = 30_000;
        _client = await ConnectionMultiplexer.ConnectAsync(options);
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                await _client.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), $"{Name} answering PING on {Endpoint}");
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        await StopAsync();
        Cleanup();
    }

    protected virtual void Cleanup()
    {
    }

    protected abstract Task StartAsync();

    protected abstract Task StopAsync();

    /// <summary>Stops the server hard (as a crash would) and starts it again on the same port with its data.</summary>
    public abstract Task RestartAsync(TimeSpan downtime);

    /// <summary>A unique queue name per test, so tests share one server without sharing state.</summary>
    public static string NewQueueName() => "queue:test-" + Guid.NewGuid().ToString("N")[..12];
}

/// <summary>A real redis-server on a free loopback port, append-only persistence on, in a temporary folder.</summary>
public sealed class RedisServer : TestRedisServer
{
    private Process? _process;
    private readonly string _dir = Directory.CreateTempSubdirectory("piops-redis-").FullName;

    public override string Name => "redis";

    protected override Task StartAsync()
    {
        string exe = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var psi = new ProcessStartInfo(exe)
        {
            ArgumentList =
            {
                "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it (apt-get install redis-server)", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        return Task.CompletedTask;
    }

    protected override async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public override async Task RestartAsync(TimeSpan downtime)
    {
        await StopAsync();
        await Task.Delay(downtime);
        await StartAsync();
    }

    /// <summary>Stops the server hard and starts it again on the same port with nothing: its data files deleted.</summary>
    public async Task RestartEmptyAsync()
    {
        await StopAsync();
        foreach (var entry in new DirectoryInfo(_dir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo d)
            {
                d.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        await StartAsync();
    }

    /// <summary>
    /// SIGSTOP: the server keeps its connections open but answers nothing, as a stalled host or a long fork does.
    /// Commands sent meanwhile run, in order, once <see cref="ThawAsync"/> sends SIGCONT.
    /// </summary>
    public Task FreezeAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>.</summary>
    public Task ThawAsync() => SignalAsync("-CONT");

    /// <summary>
    /// A stall of exactly <paramref name="stall"/>: frozen, <paramref name="whileFrozen"/> started, thawed after the
    /// stall's length, as <see cref="RestartAsync"/> keeps its downtime. The length is the scenario, not a wait.
    /// </summary>
    public async Task StallAsync(TimeSpan stall, Action? whileFrozen = null)
    {
        await FreezeAsync();
        try
        {
            whileFrozen?.Invoke();
            await Task.Delay(stall);
        }
        finally
        {
            await ThawAsync();
        }
    }

    private async Task SignalAsync(string signal)
    {
        var pid = (_process ?? throw new InvalidOperationException("server not started")).Id;
        using var kill = Process.Start(new ProcessStartInfo("kill", [signal, pid.ToString()]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {pid} exited with {kill.ExitCode}");
        }
    }

    protected override void Cleanup()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The embedded Garnet the dashboard runs by default, in this process, on a free loopback port.</summary>
public sealed class GarnetServer : TestRedisServer
{
    private EmbeddedGarnet? _garnet;
    private readonly string _dir = Directory.CreateTempSubdirectory("piops-garnet-").FullName;

    public override string Name => "garnet";

    protected override Task StartAsync()
    {
        _garnet = EmbeddedGarnet.Start(Port, _dir);
        return Task.CompletedTask;
    }

    protected override Task StopAsync()
    {
        _garnet?.Dispose();
        _garnet = null;
        return Task.CompletedTask;
    }

    public override async Task RestartAsync(TimeSpan downtime)
    {
        await StopAsync();
        await Task.Delay(downtime);
        await StartAsync();
    }

    protected override void Cleanup()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
