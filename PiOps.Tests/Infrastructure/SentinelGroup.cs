using System.Collections.Concurrent;
using System.Diagnostics;
using PiOps.Shared.Redis;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// A real Redis primary with replicas, watched by real redis-sentinel processes, all on free loopback ports in one
/// temporary folder: what docs/high-availability.md describes, small. Every process is stopped and the folder removed.
/// </summary>
public sealed class SentinelGroup : IAsyncLifetime
{
    public const string Service = "piops";

    private readonly string _dir = Directory.CreateTempSubdirectory("piops-sentinel-").FullName;
    private readonly ConcurrentDictionary<int, Process> _servers = new();
    private readonly List<Process> _sentinels = [];
    private readonly ConcurrentQueue<string> _log = new();
    private ConnectionMultiplexer? _sentinelClient;

    public SentinelGroup(int replicas = 2, int sentinels = 3)
    {
        ReplicaCount = replicas;
        SentinelCount = sentinels;
    }

    public int ReplicaCount { get; }

    /// <summary>
    /// How long a primary may not answer before the sentinels take it for down. 1 s made failovers of their own on a busy
    /// CI machine (a stalled process, not a dead one), and a second failover in the middle of a test's checks.
    /// </summary>
    public const int DownAfterMs = 3000;

    public int SentinelCount { get; }

    public int InitialPrimaryPort { get; private set; }

    public IReadOnlyList<int> SentinelPorts { get; private set; } = [];

    /// <summary>REDIS_SENTINELS as the workers take it.</summary>
    public string SentinelsSetting => string.Join(",", SentinelPorts.Select(p => $"127.0.0.1:{p}"));

    public RedisSettings Settings => new() { Sentinels = SentinelsSetting, SentinelService = Service };

    /// <summary>The last lines the sentinels wrote (+switch-master and the rest), for failure messages.</summary>
    public string Log => string.Join("\n", _log.TakeLast(60));

    public async Task InitializeAsync()
    {
        InitialPrimaryPort = FreePort.Next();
        StartServer(InitialPrimaryPort, null);
        for (int i = 0; i < ReplicaCount; i++)
        {
            StartServer(FreePort.Next(), InitialPrimaryPort);
        }

        var ports = new List<int>();
        for (int i = 0; i < SentinelCount; i++)
        {
            int port = FreePort.Next();
            ports.Add(port);
            string conf = Path.Combine(_dir, $"sentinel-{port}.conf");
            // Sentinel rewrites its file as it learns the group, so each has its own writable copy.
            await File.WriteAllTextAsync(conf, $"""
                port {port}
                bind 127.0.0.1
                protected-mode no
                daemonize no
                dir {_dir}
                sentinel monitor {Service} 127.0.0.1 {InitialPrimaryPort} {SentinelCount / 2 + 1}
                sentinel down-after-milliseconds {Service} {DownAfterMs}
                sentinel failover-timeout {Service} 10000
                sentinel parallel-syncs {Service} {ReplicaCount}
                """);
            _sentinels.Add(StartProcess("redis-sentinel", [conf], $"sentinel {port}"));
        }

        SentinelPorts = ports;
        foreach (int p in ports)
        {
            await FreePort.WaitUntilListeningAsync(p, TimeSpan.FromSeconds(20), () => Log);
        }

        var options = new ConfigurationOptions { CommandMap = CommandMap.Sentinel, AbortOnConnectFail = false, AsyncTimeout = 30_000, SyncTimeout = 30_000 };
        foreach (int p in ports)
        {
            options.EndPoints.Add("127.0.0.1", p);
        }

        _sentinelClient = await ConnectionMultiplexer.ConnectAsync(options);
        // Ready when every replica streams from the primary and every sentinel has found both the replicas and the
        // other sentinels: a failover before that could not pick a replica, or reach a quorum.
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                foreach (int p in ports)
                {
                    var sentinel = _sentinelClient.GetServer("127.0.0.1", p);
                    var replicas = await sentinel.SentinelReplicasAsync(Service);
                    var others = await sentinel.SentinelSentinelsAsync(Service);
                    if (replicas.Count(r => Field(r, "flags") == "slave" && Field(r, "master-link-status") == "ok") < ReplicaCount
                        || others.Length < SentinelCount - 1)
                    {
                        return false;
                    }
                }

                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => $"{ReplicaCount} replicas in sync and {SentinelCount} sentinels that know each other\n{Log}");
    }

    /// <summary>The primary's port as the sentinels name it now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var endpoint = await _sentinelClient!.GetServer("127.0.0.1", SentinelPorts[0]).SentinelGetMasterAddressByNameAsync(Service);
        return endpoint is System.Net.IPEndPoint ip ? ip.Port : -1;
    }

    /// <summary>Failovers so far, as the sentinels count them (the service's config-epoch): ours and any of their own.</summary>
    public async Task<long> FailoversAsync()
    {
        var fields = await _sentinelClient!.GetServer("127.0.0.1", SentinelPorts[0]).SentinelMasterAsync(Service);
        return long.TryParse(Field(fields, "config-epoch"), out long epoch) ? epoch : -1;
    }

    /// <summary>SIGKILL to the current primary: no goodbye to replicas or clients, as a crashed host.</summary>
    public async Task<int> KillPrimaryAsync()
    {
        int port = await PrimaryPortAsync();
        var process = _servers[port];
        process.Kill();
        await process.WaitForExitAsync();
        return port;
    }

    /// <summary>Starts a killed server again on its port, as a replica of the primary the sentinels name now.</summary>
    public async Task RestartAsReplicaAsync(int port)
    {
        _servers.TryRemove(port, out var old);
        old?.Dispose();
        StartServer(port, await PrimaryPortAsync());
    }

    /// <summary>
    /// SIGSTOP to every sentinel: their ports still take connections, as a hung or overloaded host's do, but nothing
    /// answers. <see cref="ContinueSentinels"/> sends SIGCONT.
    /// </summary>
    public void PauseSentinels()
    {
        foreach (var p in _sentinels)
        {
            WorkerProcessSignals.Send(p.Id, 19);
        }
    }

    public void ContinueSentinels()
    {
        foreach (var p in _sentinels)
        {
            WorkerProcessSignals.Send(p.Id, 18);
        }
    }

    /// <summary>
    /// Cuts the replicas off the primary, as a network partition does: SIGSTOP to every replica (so none reconnects),
    /// then the primary closes their links (CLIENT KILL TYPE replica). From here the primary takes writes no replica
    /// will ever have, while it goes on answering clients. <see cref="ContinueReplicas"/> sends SIGCONT.
    /// </summary>
    public async Task<IReadOnlyList<int>> PartitionReplicasAsync()
    {
        int primary = await PrimaryPortAsync();
        var replicas = _servers.Where(s => s.Key != primary && !s.Value.HasExited).Select(s => s.Key).ToList();
        foreach (int port in replicas)
        {
            WorkerProcessSignals.Send(_servers[port].Id, 19);
        }

        var options = new ConfigurationOptions { EndPoints = { { "127.0.0.1", primary } }, AllowAdmin = true, AsyncTimeout = 30_000 };
        await using var direct = await ConnectionMultiplexer.ConnectAsync(options);
        await direct.GetServer("127.0.0.1", primary).ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
        return replicas;
    }

    public void ContinueReplicas(IEnumerable<int> ports)
    {
        foreach (int port in ports)
        {
            WorkerProcessSignals.Send(_servers[port].Id, 18);
        }
    }

    private static string? Field(KeyValuePair<string, string>[] fields, string name) =>
        fields.FirstOrDefault(f => f.Key == name).Value;

    private void StartServer(int port, int? replicaOf)
    {
        var args = new List<string>
        {
            "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--dbfilename", $"dump-{port}.rdb",
            "--appendonly", "no", "--save", "", "--daemonize", "no", "--protected-mode", "no",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
        };
        if (replicaOf is { } primary)
        {
            args.AddRange(["--replicaof", "127.0.0.1", primary.ToString()]);
        }

        _servers[port] = StartProcess("redis-server", args, $"redis {port}");
    }

    // The sentinels' and servers' event lines (+switch-master, -sdown, ...), for failure messages.
    private Process StartProcess(string exe, IEnumerable<string> args, string name) =>
        RedisProcess.Start(exe, args, line =>
        {
            if (line.Contains(" +") || line.Contains(" -"))
            {
                _log.Enqueue($"{name}: {line}");
            }
        });

    public async Task DisposeAsync()
    {
        if (_sentinelClient is not null)
        {
            await _sentinelClient.DisposeAsync();
        }

        foreach (var p in _sentinels.Concat(_servers.Values))
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    await p.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
