using System.Diagnostics;
using System.Globalization;
using PiOps.Shared.Processes;
using StackExchange.Redis;

namespace PiOps.Web.Local;

/// <summary>The process launcher: a pod is a PiOps.Worker child process, stopped as kubelet stops a container (SIGTERM, the grace period, SIGKILL) and restarted with its back-off.</summary>
public sealed partial class LocalRuntime
{
    /// <summary>The start of a pod's termination, once: SIGTERM now, SIGKILL when the grace period is over.</summary>
    private void BeginStop(LocalPod pod, DateTimeOffset now)
    {
        if (pod.KillAt is not null)
        {
            return;
        }

        pod.KillAt = now + _o.GracePeriod;
        pod.Events.Normal(now, "Killing", $"Stopping the worker process: SIGTERM, then SIGKILL after {_o.GracePeriod.TotalSeconds:0} s");
        Signal(pod, PosixSignals.Term);
    }

    /// <summary>kubelet's restart back-off: the first delay, doubled with each restart, up to the maximum.</summary>
    private TimeSpan BackOff(int restarts) =>
        TimeSpan.FromTicks(Math.Min(_o.MaxRestartDelay.Ticks, _o.RestartDelay.Ticks * (1L << Math.Min(restarts, 20))));

    private void TryStart(LocalPod pod, IReadOnlyDictionary<string, string>? env = null, string[]? args = null)
    {
        string? worker = WorkerPath();
        if (worker is null)
        {
            _problem = "PiOps.Worker.dll was not found beside the dashboard: build the solution, or set LocalRuntime__WorkerPath.";
            pod.Events.Warning(time.GetUtcNow(), "Failed", _problem);
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
            return;
        }

        try
        {
            pod.Start(StartInfo(worker, pod.Name, env, args));
            pod.Events.Normal(pod.StartedAt, "Started", "Started the worker process");
            _problem = null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            _problem = $"Could not start a worker process: {ex.Message}";
            pod.Events.Warning(time.GetUtcNow(), "Failed", _problem);
            pod.RestartAt = time.GetUtcNow() + _o.RestartDelay;
        }
    }

    private ProcessStartInfo StartInfo(string worker, string podName, IReadOnlyDictionary<string, string>? env, string[]? args)
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

        var settings = redis.Settings;
        if (settings.UsesSentinel && string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            // Through the Sentinels, as the dashboard connects: a worker must follow the primary after a failover.
            psi.Environment["REDIS_SENTINELS"] = settings.Sentinels;
            psi.Environment["REDIS_SENTINEL_SERVICE"] = settings.SentinelService;
        }
        else
        {
            psi.Environment["REDIS_HOST"] = host;
            psi.Environment["REDIS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        }

        if (password is not null)
        {
            psi.Environment["REDIS_PASSWORD"] = password;
        }

        // The dashboard's own user and TLS settings: the workers reach the same Redis the same way.
        if (!string.IsNullOrWhiteSpace(settings.Username))
        {
            psi.Environment["REDIS_USERNAME"] = settings.Username;
        }

        if (settings.UsesTls)
        {
            psi.Environment["REDIS_TLS"] = "true";
            if (!string.IsNullOrWhiteSpace(settings.TlsCaFile))
            {
                psi.Environment["REDIS_TLS_CA_FILE"] = Path.GetFullPath(settings.TlsCaFile);
            }
        }

        var q = queue.Value;
        psi.Environment["REDIS_WAIT_REPLICAS"] = q.WaitReplicas.ToString(CultureInfo.InvariantCulture);
        psi.Environment["REDIS_WAIT_TIMEOUT_MS"] = ((long)q.WaitTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        psi.Environment["QUEUE_NAME"] = q.QueueName;
        psi.Environment["MAX_ITERATIONS"] = q.MaxIterations.ToString(CultureInfo.InvariantCulture);
        psi.Environment["MAX_ATTEMPTS"] = q.MaxAttempts.ToString(CultureInfo.InvariantCulture);
        psi.Environment["HEARTBEAT_TTL_SECONDS"] = q.HeartbeatTtl.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        psi.Environment["POD_NAME"] = podName;
        psi.Environment["LIVENESS_FILE"] = Path.Combine(podDir, "lastrun.date");
        psi.Environment["SHUTDOWN_TIMEOUT_SECONDS"] = Math.Max(1, _o.GracePeriod.TotalSeconds - 10).ToString(CultureInfo.InvariantCulture);
        psi.Environment["PIOPS_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        foreach (var a in args ?? [])
        {
            psi.ArgumentList.Add(a);
        }

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

    private static void Signal(LocalPod pod, int signal)
    {
        if (pod.Process is { HasExited: false } p)
        {
            PosixSignals.Send(p.Id, signal);
        }
    }
}
