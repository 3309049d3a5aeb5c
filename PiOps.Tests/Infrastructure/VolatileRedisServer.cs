using System.Diagnostics;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// A redis-server without persistence, for measuring speed: the append-only file of <see cref="RedisServer"/> (fsync on
/// every write) would measure the disk, not the queue. Not restartable: it keeps no data.
/// </summary>
public sealed class VolatileRedisServer : TestRedisServer
{
    private Process? _process;

    public override string Name => "redis (no persistence)";

    protected override Task StartAsync()
    {
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server")
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
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
    }

    public override Task RestartAsync(TimeSpan downtime) =>
        throw new NotSupportedException("a server without persistence would come back empty: use RedisServer");
}
