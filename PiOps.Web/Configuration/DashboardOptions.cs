using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;

namespace PiOps.Web.Configuration;

/// <summary>The dashboard's own settings (section "Dashboard").</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>The most tasks one enqueue may ask for.</summary>
    public int MaxBatch { get; set; } = 1_000_000;

    /// <summary>How often the shared reader samples Redis; every page renders from that one sample.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How much history the charts keep (one point a second): the queue's and the autoscaler's.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the dashboard looks for dead workers and recovers their in-flight tasks.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a lost worker stays on the Workers page.</summary>
    public TimeSpan LostWorkerRetention { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>The embedded Garnet used when no Redis is configured (section "Embedded").</summary>
public sealed class EmbeddedOptions
{
    public const string Section = "Embedded";

    /// <summary>Loopback port Garnet listens on, for workers started by hand: REDIS_HOST=127.0.0.1 REDIS_PORT=6380.</summary>
    public int Port { get; set; } = 6380;

    /// <summary>Folder for Garnet's append-only file and checkpoints, relative to the content root.</summary>
    public string DataDirectory { get; set; } = "data";
}

/// <summary>Checks every section at start-up and reports all errors together; the process refuses to start.</summary>
public sealed class PiOpsOptionsValidator :
    IValidateOptions<DashboardOptions>, IValidateOptions<EmbeddedOptions>, IValidateOptions<QueueOptions>, IValidateOptions<RedisSettings>,
    IValidateOptions<PiOps.Web.Local.LocalRuntimeOptions>, IValidateOptions<PiOps.Web.Logs.LogOptions>,
    IValidateOptions<PiOps.Web.Kubernetes.KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardOptions o)
    {
        var errors = new List<string>();
        if (o.MaxBatch is < 1 or > 10_000_000)
        {
            errors.Add($"Dashboard:MaxBatch must be from 1 to 10,000,000 (got {o.MaxBatch}).");
        }

        if (o.SampleInterval < TimeSpan.FromMilliseconds(50) || o.SampleInterval > TimeSpan.FromSeconds(10))
        {
            errors.Add($"Dashboard:SampleInterval must be from 50 ms to 10 s (got {o.SampleInterval}).");
        }

        if (o.History < TimeSpan.FromMinutes(1) || o.History > TimeSpan.FromHours(6))
        {
            errors.Add($"Dashboard:History must be from 1 minute to 6 hours (got {o.History}).");
        }

        if (o.RecoveryInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Dashboard:RecoveryInterval must be at least 1 s (got {o.RecoveryInterval}).");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, EmbeddedOptions o)
    {
        var errors = new List<string>();
        if (o.Port is < 1 or > 65535)
        {
            errors.Add($"Embedded:Port must be from 1 to 65535 (got {o.Port}).");
        }

        if (string.IsNullOrWhiteSpace(o.DataDirectory))
        {
            errors.Add("Embedded:DataDirectory must name a folder.");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, QueueOptions o) =>
        Result(o.Validate().Select(e => "Queue: " + e).ToList());

    public ValidateOptionsResult Validate(string? name, RedisSettings o) =>
        o.IsConfigured ? Result(o.Validate().ToList()) : ValidateOptionsResult.Success;

    public ValidateOptionsResult Validate(string? name, PiOps.Web.Local.LocalRuntimeOptions o) => Result(o.Validate().ToList());

    public ValidateOptionsResult Validate(string? name, PiOps.Web.Logs.LogOptions o) => Result(o.Validate().ToList());

    public ValidateOptionsResult Validate(string? name, PiOps.Web.Kubernetes.KubernetesOptions o)
    {
        var errors = o.Validate().ToList();
        if (errors.Count == 0 && PiOps.Web.Kubernetes.KubernetesConnection.UsesKubernetes(o))
        {
            // The cluster was chosen: a kubeconfig that cannot be used stops the start, rather than a dashboard that
            // shows nothing.
            try
            {
                PiOps.Web.Kubernetes.KubernetesConnection.Connect(o);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add(ex.Message);
            }
        }

        return Result(errors);
    }

    private static ValidateOptionsResult Result(List<string> errors) =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
