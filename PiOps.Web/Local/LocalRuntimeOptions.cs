namespace PiOps.Web.Local;

/// <summary>The local runtime: worker processes with the semantics of a Deployment (section "LocalRuntime").</summary>
public sealed class LocalRuntimeOptions
{
    public const string Section = "LocalRuntime";

    /// <summary>Run workloads as local processes. On by default without a cluster.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Replicas of the workers Deployment on first start (the book's 2); afterwards the saved value is used.</summary>
    public int InitialReplicas { get; set; } = 2;

    /// <summary>Most replicas the local runtime will run, to protect the machine.</summary>
    public int MaxReplicas { get; set; } = 32;

    /// <summary>PiOps.Worker.dll; empty finds the one built beside the dashboard.</summary>
    public string? WorkerPath { get; set; }

    /// <summary>After SIGTERM, how long a pod may take before SIGKILL (the book's terminationGracePeriodSeconds).</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>First restart delay of a crashed pod; doubles up to <see cref="MaxRestartDelay"/>, as kubelet's back-off.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the autoscaler looks at its metrics (the HPA's sync period is 15 s).</summary>
    public TimeSpan AutoscalerInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The CPU request of a worker pod in millicores (the book's 250m): CPU utilisation is measured against it.</summary>
    public int CpuRequestMillicores { get; set; } = 250;

    public IEnumerable<string> Validate()
    {
        if (InitialReplicas < 0 || InitialReplicas > MaxReplicas)
        {
            yield return $"LocalRuntime:InitialReplicas must be from 0 to LocalRuntime:MaxReplicas ({MaxReplicas}) (got {InitialReplicas}).";
        }

        if (MaxReplicas is < 1 or > 256)
        {
            yield return $"LocalRuntime:MaxReplicas must be from 1 to 256 (got {MaxReplicas}).";
        }

        if (GracePeriod < TimeSpan.Zero || GracePeriod > TimeSpan.FromHours(1))
        {
            yield return $"LocalRuntime:GracePeriod must be from 0 to 1 hour (got {GracePeriod}).";
        }

        if (RestartDelay < TimeSpan.FromMilliseconds(100) || MaxRestartDelay < RestartDelay)
        {
            yield return "LocalRuntime:RestartDelay must be at least 100 ms and at most LocalRuntime:MaxRestartDelay.";
        }

        if (AutoscalerInterval < TimeSpan.FromMilliseconds(100) || AutoscalerInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"LocalRuntime:AutoscalerInterval must be from 100 ms to 10 minutes (got {AutoscalerInterval}).";
        }

        if (CpuRequestMillicores is < 10 or > 64_000)
        {
            yield return $"LocalRuntime:CpuRequestMillicores must be from 10 to 64,000 (got {CpuRequestMillicores}).";
        }

        if (!string.IsNullOrWhiteSpace(WorkerPath) && !File.Exists(WorkerPath))
        {
            yield return $"LocalRuntime:WorkerPath {WorkerPath} does not exist.";
        }
    }
}
