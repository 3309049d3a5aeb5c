using Garnet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PiOps.Web.Redis;

/// <summary>
/// An in-process Garnet server on loopback, the embedded default when no Redis is configured. With a data folder it
/// keeps every write in an append-only file committed on each write, and replays it on start, so a restart or a crash
/// loses no queued task. The RandomAccess device avoids the native one, which needs libaio (absent on Debian 12).
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port, string? dataDirectory)
    {
        _server = server;
        Port = port;
        DataDirectory = dataDirectory;
    }

    public int Port { get; }

    public string? DataDirectory { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <param name="password">Required of every client (AUTH) when given; null leaves the server open (tests, benchmarks).</param>
    public static EmbeddedGarnet Start(int port, string? dataDirectory, ILoggerFactory? loggerFactory = null, string? password = null)
    {
        var args = new List<string>
        {
            "--bind", "127.0.0.1",
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lua", "true",
            // Without it Garnet runs a script's commands unisolated from other clients' (its default): two workers'
            // stores interleaved, and a read-then-write in one script lost updates (ScriptIsolationFacts). With it, a
            // script locks the keys it is given, runs, and unlocks, as the protocol's scripts need (docs/decisions.md).
            "--lua-transaction-mode", "true",
            "--memory", "512m",
            "--index", "16m",
        };
        if (password is not null)
        {
            // In-process: the password is in no process's command line.
            args.AddRange(["--auth", "Password", "--password", password]);
        }

        // Without a storage tier Garnet drops records that no longer fit in memory: a long queue could vanish. With
        // one they spill to files. Without a data folder (benchmarks) a temporary folder holds them.
        string dir = Path.GetFullPath(dataDirectory ?? Directory.CreateTempSubdirectory("piops-garnet-").FullName);
        Directory.CreateDirectory(dir);
        args.AddRange([
            "--storage-tier", "true",
            "--logdir", Path.Combine(dir, "log"),
            "--device-type", "RandomAccess",
        ]);
        if (dataDirectory is not null)
        {
            args.AddRange([
                "--aof", "--aof-commit-freq", "0",
                "--checkpointdir", Path.Combine(dir, "checkpoints"),
                "--recover",
            ]);
        }

        // Garnet prints a logo to standard output while it starts; PiOps prints its own one-line summary instead.
        var stdout = Console.Out;
        Console.SetOut(TextWriter.Null);
        GarnetServer? server = null;
        try
        {
            server = new GarnetServer([.. args], loggerFactory ?? NullLoggerFactory.Instance);
            server.Start();
        }
        catch
        {
            server?.Dispose();
            throw;
        }
        finally
        {
            Console.SetOut(stdout);
        }

        return new EmbeddedGarnet(server, port, dataDirectory);
    }

    public void Dispose() => _server.Dispose();
}
