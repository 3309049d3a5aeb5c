using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PiOps.Shared.Processes;
using PiOps.Shared.Queue;
using PiOps.Web.Configuration;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;
using StackExchange.Redis;

namespace PiOps.Web.Local;

/// <summary>
/// The embedded default's workloads: PiOps.Worker child processes with the semantics of the book's Deployment. It
/// keeps the desired number of pods, restarts a crashed one in place with kubelet's doubling back-off, and scales
/// down with SIGTERM, the grace period, then SIGKILL. The desired count survives a restart of the dashboard; the
/// processes do not (each worker also stops by itself once the dashboard is gone).
/// </summary>
public sealed class LocalRuntime(
    IOptions<LocalRuntimeOptions> options,
    IOptions<EmbeddedOptions> embedded,
    IOptions<QueueOptions> queue,
    RedisConnection redis,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<LocalRuntime> log) : BackgroundService, IWorkloadRuntime
{
    public const string DeploymentName = "pi-worker";

    private readonly LocalRuntimeOptions _o = options.Value;
    private readonly object _gate = new();
    private readonly List<LocalPod> _pods = [];
    private readonly Subscribers<WorkloadSnapshot> _subscribers = new();
    private readonly string _templateHash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..10];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _desired = -1;
    private volatile WorkloadSnapshot _current = WorkloadSnapshot.Empty;
    private string? _problem;

    public string Description => "local runtime (worker processes on this machine)";

    public bool IsLocal => true;

    public WorkloadSnapshot Current => _current;

    private string StateFile => Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "workloads.json");

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    public Task ScaleAsync(int replicas)
    {
        if (replicas < 0 || replicas > _o.MaxReplicas)
        {
            throw new WorkloadActionException($"Replicas must be from 0 to {_o.MaxReplicas} on the local runtime (LocalRuntime:MaxReplicas); nothing was changed.");
        }

        lock (_gate)
        {
            _desired = replicas;
        }

        SaveState(replicas);
        Wake();
        return Task.CompletedTask;
    }

    public IReadOnlyList<LogLine> Logs(string podName)
    {
        lock (_gate)
        {
            return _pods.FirstOrDefault(p => p.Name == podName)?.Logs() ?? [];
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            _desired = LoadState() ?? _o.InitialReplicas;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            Reconcile();
            await PublishAsync();
            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The dashboard is stopping: every pod gets SIGTERM, a short grace, then SIGKILL. The saved desired count stays.
        List<LocalPod> pods;
        lock (_gate)
        {
            pods = [.. _pods];
        }

        foreach (var pod in pods.Where(p => p.IsRunning))
        {
            Signal(pod, PosixSignals.Term);
        }

        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(15, _o.GracePeriod.TotalSeconds));
        while (pods.Any(p => p.IsRunning) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(100, CancellationToken.None);
        }

        foreach (var pod in pods.Where(p => p.IsRunning))
        {
            pod.Process!.Kill(entireProcessTree: true);
        }
    }

    private void Reconcile()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            // Pods that finished stopping go away; pods past their grace period are killed.
            _pods.RemoveAll(p => p.KillAt is not null && !p.IsRunning);
            foreach (var pod in _pods.Where(p => p.KillAt is { } at && at <= now && p.IsRunning))
            {
                log.LogWarning("Pod {Pod} did not stop within the grace period: killing it", pod.Name);
                pod.Process!.Kill(entireProcessTree: true);
            }

            // Crashed pods restart in place, after a back-off that doubles with each restart (kubelet's CrashLoopBackOff).
            foreach (var pod in _pods.Where(p => p.KillAt is null && !p.IsRunning))
            {
                if (pod.RestartAt is null)
                {
                    var delay = TimeSpan.FromTicks(Math.Min(_o.MaxRestartDelay.Ticks, _o.RestartDelay.Ticks * (1L << Math.Min(pod.Restarts, 20))));
                    pod.RestartAt = now + delay;
                    log.LogWarning("Pod {Pod} exited with {Code}; restarting in {Delay:F0} s", pod.Name, pod.ExitCode, delay.TotalSeconds);
                }
                else if (pod.RestartAt <= now)
                {
                    pod.Restarts++;
                    TryStart(pod);
                }
            }

            var active = _pods.Where(p => p.KillAt is null).ToList();
            for (int i = active.Count; i < _desired; i++)
            {
                var pod = new LocalPod($"{DeploymentName}-{_templateHash}-{RandomSuffix()}", _o.LogLinesPerPod, time);
                _pods.Add(pod);
                TryStart(pod);
            }

            // Scale down: newest first, as a ReplicaSet does, each with SIGTERM and the grace period.
            foreach (var pod in active.OrderByDescending(p => p.StartedAt).Take(Math.Max(0, active.Count - _desired)))
            {
                pod.KillAt = now + _o.GracePeriod;
                if (pod.IsRunning)
                {
                    Signal(pod, PosixSignals.Term);
                }
            }

            foreach (var pod in _pods)
            {
                pod.Sample();
            }
        }
    }

    private void TryStart(LocalPod pod)
    {
        string? worker = WorkerPath();
        if (worker is null)
        {
            _problem = "PiOps.Worker.dll was not found beside the dashboard: build the solution, or set LocalRuntime__WorkerPath.";
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
            return;
        }

        try
        {
            pod.Start(StartInfo(worker, pod.Name));
            _problem = null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            _problem = $"Could not start a worker process: {ex.Message}";
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
        }
    }

    private ProcessStartInfo StartInfo(string worker, string podName)
    {
        var (host, port, password) = WorkerRedis();
        string podDir = Path.Combine(environment.ContentRootPath, embedded.Value.DataDirectory, "pods", podName);
        Directory.CreateDirectory(podDir);
        var psi = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = podDir,
        };
        psi.ArgumentList.Add(worker);
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("REDIS_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["REDIS_HOST"] = host;
        psi.Environment["REDIS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        if (password is not null)
        {
            psi.Environment["REDIS_PASSWORD"] = password;
        }

        var q = queue.Value;
        psi.Environment["QUEUE_NAME"] = q.QueueName;
        psi.Environment["MAX_ITERATIONS"] = q.MaxIterations.ToString(CultureInfo.InvariantCulture);
        psi.Environment["MAX_ATTEMPTS"] = q.MaxAttempts.ToString(CultureInfo.InvariantCulture);
        psi.Environment["HEARTBEAT_TTL_SECONDS"] = q.HeartbeatTtl.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        psi.Environment["POD_NAME"] = podName;
        psi.Environment["LIVENESS_FILE"] = Path.Combine(podDir, "lastrun.date");
        psi.Environment["SHUTDOWN_TIMEOUT_SECONDS"] = Math.Max(1, _o.GracePeriod.TotalSeconds - 10).ToString(CultureInfo.InvariantCulture);
        psi.Environment["PIOPS_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return psi;
    }

    private (string Host, int Port, string? Password) WorkerRedis()
    {
        var options = redis.Settings.ToConfigurationOptions("describe");
        var endpoint = options.EndPoints[0];
        return endpoint switch
        {
            System.Net.DnsEndPoint d => (d.Host, d.Port, options.Password),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port, options.Password),
            _ => ("127.0.0.1", 6379, options.Password),
        };
    }

    private string? WorkerPath()
    {
        if (!string.IsNullOrWhiteSpace(_o.WorkerPath))
        {
            return _o.WorkerPath;
        }

        // The dashboard's build puts the worker in worker/; a test host may carry it directly beside itself.
        return new[] { Path.Combine(AppContext.BaseDirectory, "worker", "PiOps.Worker.dll"), Path.Combine(AppContext.BaseDirectory, "PiOps.Worker.dll") }
            .FirstOrDefault(File.Exists);
    }

    private static string DotnetHost() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    private async Task PublishAsync()
    {
        var now = time.GetUtcNow();
        WorkloadSnapshot snapshot;
        lock (_gate)
        {
            var pods = _pods.Select(p => View(p, now)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            int ready = pods.Count(p => p.Ready);
            snapshot = new WorkloadSnapshot(now, new DeploymentView(DeploymentName, Math.Max(0, _desired), ready, ready, pods));
        }

        _current = snapshot;
        await _subscribers.NotifyAsync(snapshot, log);
    }

    private PodView View(LocalPod p, DateTimeOffset now)
    {
        bool running = p.IsRunning;
        string phase = p.KillAt is not null ? "Terminating"
            : running ? "Running"
            : p.Process is null ? "Pending"
            : "CrashLoopBackOff";
        string? note = phase switch
        {
            "CrashLoopBackOff" => $"exited with {p.ExitCode}; restarting {(p.RestartAt is { } at ? "in " + Math.Max(0, (at - now).TotalSeconds).ToString("0", CultureInfo.InvariantCulture) + " s" : "soon")}" + LastError(p),
            "Pending" => _problem,
            _ => null,
        };
        bool ready = running && p.KillAt is null && now - p.StartedAt > TimeSpan.FromSeconds(1);
        return new PodView(p.Name, phase, ready, p.Restarts, p.StartedAt, Math.Round(p.CpuPercent, 1), p.MemoryBytes,
            Environment.MachineName, running ? p.Process!.Id : null, note);
    }

    // The first line of what the pod last wrote to stderr: usually the reason it crashed.
    private static string LastError(LocalPod p)
    {
        var logs = p.Logs();
        var firstOfLastBurst = logs.Reverse().TakeWhile(l => l.Error).LastOrDefault();
        return firstOfLastBurst is null ? "" : ": " + (firstOfLastBurst.Text.Length > 200 ? firstOfLastBurst.Text[..200] + "…" : firstOfLastBurst.Text);
    }

    private int? LoadState()
    {
        try
        {
            if (File.Exists(StateFile))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(StateFile));
                return doc.RootElement.GetProperty("workers").GetProperty("replicas").GetInt32();
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            log.LogWarning("Could not read {File} ({Message}); starting with {Replicas} replicas", StateFile, ex.Message, _o.InitialReplicas);
        }

        return null;
    }

    private void SaveState(int replicas)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
        string tmp = StateFile + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(new { workers = new { replicas } }));
        File.Move(tmp, StateFile, overwrite: true);
    }

    private static string RandomSuffix() =>
        string.Create(5, Random.Shared, (span, r) =>
        {
            const string chars = "bcdfghjklmnpqrstvwxz2456789";
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = chars[r.Next(chars.Length)];
            }
        });

    private static void Signal(LocalPod pod, int signal)
    {
        if (pod.Process is { HasExited: false } p)
        {
            PosixSignals.Send(p.Id, signal);
        }
    }
}

/// <summary>A workload action that could not be done, with a sentence that says why.</summary>
public sealed class WorkloadActionException(string message) : Exception(message);
