namespace PiOps.Web.Configuration;

/// <summary>The dashboard's own settings (section "Dashboard").</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>The most tasks one enqueue may ask for.</summary>
    public int MaxBatch { get; set; } = 1_000_000;

    /// <summary>How often the shared reader samples Redis; every page renders from that one sample.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How often at most the shared reader reads whether the queue moved (one round trip: the list lengths, the registry's
    /// size, the done and failed totals), so a push by any producer reaches the pages within about this long instead of at
    /// the next sample; a change takes a sample at once. On Redis 6 and later it reads only after Redis said one of them
    /// changed (key tracking); on Garnet or a cluster, every interval while someone watches. Zero turns it off (samples only).
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>How much history the charts keep (one point a second): the queue's and the autoscaler's.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the dashboard looks for dead workers and recovers their in-flight tasks.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a lost worker stays on the Workers page.</summary>
    public TimeSpan LostWorkerRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Dashboard:TraceUrl: the tracing UI's address of a trace, with {traceId} where the id goes (Jaeger:
    /// http://jaeger:16686/trace/{traceId}; Tempo in Grafana and the Aspire dashboard take it the same way). When set, a
    /// task's page links to the trace its envelope carried. Empty: no link.
    /// </summary>
    public string? TraceUrl { get; set; }

    /// <summary>The link to a trace, or null without <see cref="TraceUrl"/> or a trace id.</summary>
    public string? TraceLink(string? traceId) =>
        string.IsNullOrWhiteSpace(TraceUrl) || string.IsNullOrEmpty(traceId) ? null : TraceUrl.Replace("{traceId}", Uri.EscapeDataString(traceId), StringComparison.Ordinal);

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(TraceUrl)
            && (!TraceUrl.Contains("{traceId}", StringComparison.Ordinal)
                || !Uri.TryCreate(TraceUrl.Replace("{traceId}", "0", StringComparison.Ordinal), UriKind.Absolute, out var u)
                || u.Scheme is not ("http" or "https")))
        {
            yield return $"Dashboard:TraceUrl must be an http(s) address with {{traceId}} where the trace id goes, e.g. http://jaeger:16686/trace/{{traceId}} (got \"{TraceUrl}\").";
        }

        if (MaxBatch is < 1 or > 10_000_000)
        {
            yield return $"Dashboard:MaxBatch must be from 1 to 10,000,000 (got {MaxBatch}).";
        }

        if (SampleInterval < TimeSpan.FromMilliseconds(50) || SampleInterval > TimeSpan.FromSeconds(10))
        {
            yield return $"Dashboard:SampleInterval must be from 50 ms to 10 s (got {SampleInterval}).";
        }

        if (ProbeInterval != TimeSpan.Zero && (ProbeInterval < TimeSpan.FromMilliseconds(10) || ProbeInterval > SampleInterval))
        {
            yield return $"Dashboard:ProbeInterval must be 0 (off) or from 10 ms to Dashboard:SampleInterval ({SampleInterval}) (got {ProbeInterval}).";
        }

        if (History < TimeSpan.FromMinutes(1) || History > TimeSpan.FromHours(6))
        {
            yield return $"Dashboard:History must be from 1 minute to 6 hours (got {History}).";
        }

        if (RecoveryInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"Dashboard:RecoveryInterval must be at least 1 s (got {RecoveryInterval}).";
        }
    }
}

/// <summary>The embedded Garnet used when no Redis is configured (section "Embedded").</summary>
public sealed class EmbeddedOptions
{
    public const string Section = "Embedded";

    /// <summary>Loopback port Garnet listens on, for workers started by hand: REDIS_HOST=127.0.0.1 REDIS_PORT=6380.</summary>
    public int Port { get; set; } = 6380;

    /// <summary>Folder for Garnet's append-only file and checkpoints, relative to the content root.</summary>
    public string DataDirectory { get; set; } = "data";

    public IEnumerable<string> Validate()
    {
        if (Port is < 1 or > 65535)
        {
            yield return $"Embedded:Port must be from 1 to 65535 (got {Port}).";
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            yield return "Embedded:DataDirectory must name a folder.";
        }
    }
}
