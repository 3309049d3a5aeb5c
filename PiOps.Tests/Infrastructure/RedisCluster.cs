using System.Collections.Concurrent;
using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using StackExchange.Redis;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of three primaries on free loopback ports (<c>redis-server --cluster-enabled yes</c>, joined by
/// <c>redis-cli --cluster create</c>), each in a folder of its own under one temporary folder. The shared client is
/// given the first node and finds the others as any cluster client does. <see cref="MoveSlotAsync"/> reshards one slot
/// the way <c>redis-cli --cluster reshard</c> does, while clients keep working.
/// </summary>
public sealed class RedisCluster : TestRedisServer
{
    private readonly string _dir = Directory.CreateTempSubdirectory("piops-cluster-").FullName;
    private readonly ConcurrentDictionary<int, Process> _nodes = new();
    private readonly ConcurrentQueue<string> _log = new();

    public override string Name => "redis-cluster";

    public IReadOnlyList<int> Ports { get; private set; } = [];

    /// <summary>The last lines the nodes and redis-cli wrote, for failure messages.</summary>
    public string Log => string.Join("\n", _log.TakeLast(60));

    protected override async Task StartAsync()
    {
        Ports = [Port, FreePort.Next(), FreePort.Next()];
        _busPorts = Ports.ToDictionary(p => p, _ => FreePort.Next());
        StartNodes();
        foreach (int port in Ports)
        {
            await Eventually.WaitAsync(async () => (await CliAsync(port, "PING")).Trim() == "PONG", TimeSpan.FromSeconds(20), () => $"node {port} answering PING\n{Log}");
        }

        var create = new List<string> { "--cluster", "create" };
        create.AddRange(Ports.Select(p => $"127.0.0.1:{p}"));
        create.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
        var (code, output) = await RunAsync("redis-cli", create);
        if (code != 0)
        {
            throw new InvalidOperationException($"redis-cli --cluster create exited with {code}:\n{output}\n{Log}");
        }

        foreach (int port in Ports)
        {
            await Eventually.WaitAsync(async () => (await CliAsync(port, "CLUSTER", "INFO")).Contains("cluster_state:ok"),
                TimeSpan.FromSeconds(30), () => $"node {port} reporting cluster_state:ok\n{Log}");
        }
    }

    /// <summary>
    /// Each node's cluster bus port, chosen like its own (left alone it is port + 10000, which may be a port in the
    /// kernel's ephemeral range, or one someone holds) and kept for its restarts: nodes.conf records it.
    /// </summary>
    private Dictionary<int, int> _busPorts = [];

    /// <summary>Each node in its own folder, its data in an fsync'd append-only file, its view of the cluster in nodes.conf.</summary>
    private void StartNodes()
    {
        foreach (int port in Ports)
        {
            string dir = Directory.CreateDirectory(Path.Combine(_dir, port.ToString())).FullName;
            _nodes[port] = Start("redis-server",
            [
                "--port", port.ToString(), "--cluster-port", _busPorts[port].ToString(), "--bind", "127.0.0.1", "--dir", dir, "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no",
            ], $"node {port}");
        }
    }

    protected override async Task StopAsync()
    {
        foreach (var node in _nodes.Values)
        {
            if (!node.HasExited)
            {
                node.Kill();
                await node.WaitForExitAsync();
            }

            node.Dispose();
        }

        _nodes.Clear();
    }

    /// <summary>Every node stopped hard and started again with its data and its nodes.conf: the cluster forms again.</summary>
    public override async Task RestartAsync(TimeSpan downtime)
    {
        await StopAsync();
        await Task.Delay(downtime);
        StartNodes();
    }

    /// <summary>The port of the node serving <paramref name="key"/>'s slot, as the nodes themselves say.</summary>
    public async Task<int> OwnerAsync(RedisKey key) => (await SlotOwnerAsync(await SlotAsync(key))).Port;

    public async Task<int> SlotAsync(RedisKey key) => int.Parse((await CliAsync(Port, "CLUSTER", "KEYSLOT", key!)).Trim());

    /// <summary>
    /// Moves <paramref name="slot"/> to the node on <paramref name="toPort"/> as <c>redis-cli --cluster reshard</c> does:
    /// IMPORTING on the target, MIGRATING on the source, MIGRATE the keys a few at a time
    /// (each batch one redis-cli process, so clients work against a slot half moved for as long as that takes), then
    /// SETSLOT NODE everywhere.
    /// Returns how many keys moved.
    /// </summary>
    public async Task<int> MoveSlotAsync(int slot, int toPort, int batch = 5)
    {
        var (fromPort, fromId) = await SlotOwnerAsync(slot);
        string toId = (await CliAsync(toPort, "CLUSTER", "MYID")).Trim();
        if (fromPort == toPort)
        {
            throw new InvalidOperationException($"slot {slot} is on {toPort} already");
        }

        await CheckedAsync(toPort, "CLUSTER", "SETSLOT", slot.ToString(), "IMPORTING", fromId);
        await CheckedAsync(fromPort, "CLUSTER", "SETSLOT", slot.ToString(), "MIGRATING", toId);
        int moved = 0;
        while (true)
        {
            var keys = (await CliAsync(fromPort, "CLUSTER", "GETKEYSINSLOT", slot.ToString(), batch.ToString()))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (keys.Length == 0)
            {
                break;
            }

            var migrate = new List<string> { "MIGRATE", "127.0.0.1", toPort.ToString(), "", "0", "10000", "KEYS" };
            migrate.AddRange(keys);
            string reply = await CliAsync(fromPort, [.. migrate]);
            if (!reply.Contains("OK") && !reply.Contains("NOKEY"))
            {
                throw new InvalidOperationException($"MIGRATE of slot {slot} from {fromPort} to {toPort}: {reply}");
            }

            moved += keys.Length;
        }

        foreach (int port in new[] { toPort, fromPort }.Concat(Ports.Where(p => p != toPort && p != fromPort)))
        {
            await CheckedAsync(port, "CLUSTER", "SETSLOT", slot.ToString(), "NODE", toId);
        }

        return moved;
    }

    private async Task<(int Port, string Id)> SlotOwnerAsync(int slot)
    {
        // CLUSTER NODES: id ip:port@bus flags master - ping pong epoch state ranges...
        foreach (string line in (await CliAsync(Port, "CLUSTER", "NODES")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (!f[2].Contains("master"))
            {
                continue;
            }

            foreach (string range in f.Skip(8).Where(r => !r.StartsWith('[')))
            {
                string[] ends = range.Split('-');
                int low = int.Parse(ends[0]), high = int.Parse(ends[^1]);
                if (slot >= low && slot <= high)
                {
                    return (int.Parse(f[1][(f[1].IndexOf(':') + 1)..f[1].IndexOf('@')]), f[0]);
                }
            }
        }

        throw new InvalidOperationException($"no node serves slot {slot}\n{Log}");
    }

    private async Task CheckedAsync(int port, params string[] command)
    {
        string reply = (await CliAsync(port, command)).Trim();
        if (reply != "OK")
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} on {port}: {reply}");
        }
    }

    /// <summary>One command through redis-cli (raw replies), so the fixture needs no client of its own.</summary>
    private async Task<string> CliAsync(int port, params string[] command)
    {
        var (_, output) = await RunAsync("redis-cli", ["-p", port.ToString(), "--raw", .. command]);
        return output;
    }

    private async Task<(int Code, string Output)> RunAsync(string exe, IReadOnlyList<string> args)
    {
        var run = await Cli.Wrap(exe).WithArguments(args).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        string output = run.StandardOutput + run.StandardError;
        _log.Enqueue($"{exe} {string.Join(' ', args.Take(6))}: {output.Trim().Split('\n').LastOrDefault()}");
        return (run.ExitCode, output);
    }

    private Process Start(string exe, string[] args, string name) => RedisProcess.Start(exe, args, line => Keep(name, line));

    private void Keep(string name, string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue($"{name}: {line}");
        while (_log.Count > 500)
        {
            _log.TryDequeue(out _);
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
