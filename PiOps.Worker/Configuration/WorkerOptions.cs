using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;

namespace PiOps.Worker.Configuration;

/// <summary>The worker's settings, read from the book's environment variables (README has the table).</summary>
public sealed class WorkerOptions
{
    public RedisSettings Redis { get; } = new();

    public QueueOptions Queue { get; } = new();

    /// <summary>COMPLETE_WHEN_EMPTY: exit 0 once the queue is drained, for Jobs.</summary>
    public bool CompleteWhenEmpty { get; set; }

    /// <summary>POP_TIMEOUT_SECONDS: how long one pop waits before the loop turns again.</summary>
    public TimeSpan PopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>LIVENESS_FILE: where the Unix time is written while the worker is healthy.</summary>
    public string LivenessFile { get; set; } = "logs/lastrun.date";

    /// <summary>SHUTDOWN_TIMEOUT_SECONDS: after SIGTERM, how long the current task may run before it is given back.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(110);

    /// <summary>JOB_COMPLETION_INDEX: set by an Indexed Job; the worker runs that one task of TASKS / TASKS_FILE.</summary>
    public int? CompletionIndex { get; set; }

    /// <summary>TASKS: the static list of an Indexed Job, iterations separated by commas, spaces or new lines.</summary>
    public string? Tasks { get; set; }

    /// <summary>TASKS_FILE: the same list in a file, one task per line.</summary>
    public string? TasksFile { get; set; }

    /// <summary>POD_NAME (downward API) or HOSTNAME: the first part of the worker id.</summary>
    public string Host { get; set; } = Environment.MachineName;

    /// <summary>PIOPS_PARENT_PID: set by the dashboard's local runtime; the worker stops when that process is gone.</summary>
    public int? ParentPid { get; set; }

    /// <summary>
    /// METRICS_PORT: serve Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics. Off (null) by default: the
    /// book's worker opens no port.
    /// </summary>
    public int? MetricsPort { get; set; }

    /// <summary>METRICS_HOST: the host name the metrics listener binds, "*" (every address) by default.</summary>
    public string MetricsHost { get; set; } = "*";

    /// <summary>Errors found while reading the variables, reported with the rest by the validator.</summary>
    internal List<string> BindingErrors { get; } = [];

    /// <summary>Reads the book's variables from configuration (environment variables, in practice).</summary>
    public static void Bind(WorkerOptions o, IConfiguration c)
    {
        o.Redis.Host = c["REDIS_HOST"];
        o.Redis.Password = NullIfEmpty(c["REDIS_PASSWORD"]);
        o.Redis.Port = Int(c, "REDIS_PORT", o.Redis.Port, o.BindingErrors);
        o.Redis.Sentinels = NullIfEmpty(c["REDIS_SENTINELS"]);
        o.Redis.SentinelService = NullIfEmpty(c["REDIS_SENTINEL_SERVICE"]);
        o.Redis.ReadTlsAndUserVariables(name => c[name]);
        o.Queue.WaitReplicas = Int(c, "REDIS_WAIT_REPLICAS", o.Queue.WaitReplicas, o.BindingErrors);
        o.Queue.WaitTimeout = TimeSpan.FromMilliseconds(Long(c, "REDIS_WAIT_TIMEOUT_MS", (long)o.Queue.WaitTimeout.TotalMilliseconds, o.BindingErrors));
        o.Queue.QueueName = NullIfEmpty(c["QUEUE_NAME"]) ?? o.Queue.QueueName;
        o.Queue.MaxIterations = Long(c, "MAX_ITERATIONS", o.Queue.MaxIterations, o.BindingErrors);
        o.Queue.MaxAttempts = Int(c, "MAX_ATTEMPTS", o.Queue.MaxAttempts, o.BindingErrors);
        o.Queue.HeartbeatTtl = Seconds(c, "HEARTBEAT_TTL_SECONDS", o.Queue.HeartbeatTtl, o.BindingErrors);
        o.CompleteWhenEmpty = c["COMPLETE_WHEN_EMPTY"] is { } cwe && !(cwe.Trim() is "" or "0" || cwe.Trim().Equals("false", StringComparison.OrdinalIgnoreCase));
        o.PopTimeout = Seconds(c, "POP_TIMEOUT_SECONDS", o.PopTimeout, o.BindingErrors);
        o.LivenessFile = NullIfEmpty(c["LIVENESS_FILE"]) ?? o.LivenessFile;
        o.ShutdownTimeout = Seconds(c, "SHUTDOWN_TIMEOUT_SECONDS", o.ShutdownTimeout, o.BindingErrors);
        if (NullIfEmpty(c["JOB_COMPLETION_INDEX"]) is { } index)
        {
            o.CompletionIndex = Int(c, "JOB_COMPLETION_INDEX", -1, o.BindingErrors);
        }

        if (NullIfEmpty(c["PIOPS_PARENT_PID"]) is not null)
        {
            o.ParentPid = Int(c, "PIOPS_PARENT_PID", 0, o.BindingErrors);
        }

        if (NullIfEmpty(c["METRICS_PORT"]) is { } metricsPort && metricsPort != "0")
        {
            o.MetricsPort = Int(c, "METRICS_PORT", 0, o.BindingErrors);
        }

        o.MetricsHost = NullIfEmpty(c["METRICS_HOST"]) ?? o.MetricsHost;
        o.Tasks = NullIfEmpty(c["TASKS"]);
        o.TasksFile = NullIfEmpty(c["TASKS_FILE"]);
        o.Host = NullIfEmpty(c["POD_NAME"]) ?? NullIfEmpty(c["HOSTNAME"]) ?? Environment.MachineName;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static int Int(IConfiguration c, string name, int fallback, List<string> errors) =>
        (int)Long(c, name, fallback, errors, int.MinValue, int.MaxValue);

    private static long Long(IConfiguration c, string name, long fallback, List<string> errors,
        long min = long.MinValue, long max = long.MaxValue)
    {
        if (NullIfEmpty(c[name]) is not { } text)
        {
            return fallback;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max)
        {
            return v;
        }

        errors.Add($"{name} must be a whole number (got \"{text}\").");
        return fallback;
    }

    private static TimeSpan Seconds(IConfiguration c, string name, TimeSpan fallback, List<string> errors)
    {
        if (NullIfEmpty(c[name]) is not { } text)
        {
            return fallback;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s) && s >= 0 && s < 1e7)
        {
            return TimeSpan.FromSeconds(s);
        }

        errors.Add($"{name} must be a number of seconds (got \"{text}\").");
        return fallback;
    }
}

/// <summary>Reports every configuration error at once, so one restart fixes them all.</summary>
public sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions o)
    {
        var errors = new List<string>(o.BindingErrors);
        bool indexed = o.CompletionIndex is not null;
        if (!indexed)
        {
            errors.AddRange(o.Redis.Validate().Select(e => e.Replace("Redis is not configured", "REDIS_HOST is not set")));
        }
        else if (o.Redis.IsConfigured)
        {
            errors.AddRange(o.Redis.Validate());
        }

        errors.AddRange(o.Queue.Validate());
        if (o.PopTimeout < TimeSpan.FromSeconds(1) || o.PopTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"POP_TIMEOUT_SECONDS must be from 1 to 600 (got {o.PopTimeout.TotalSeconds}).");
        }

        if (o.ShutdownTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"SHUTDOWN_TIMEOUT_SECONDS must be at most 3600 (got {o.ShutdownTimeout.TotalSeconds}).");
        }

        if (o.MetricsPort is { } port && (port < 1 || port > 65535))
        {
            errors.Add($"METRICS_PORT must be from 1 to 65535, or 0 for none (got {port}).");
        }

        if (indexed)
        {
            if (o.CompletionIndex < 0)
            {
                errors.Add($"JOB_COMPLETION_INDEX must be 0 or more (got {o.CompletionIndex}).");
            }

            if (o.Tasks is null && o.TasksFile is null)
            {
                errors.Add("JOB_COMPLETION_INDEX is set, but neither TASKS nor TASKS_FILE gives the list of tasks.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
