using System.Globalization;
using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>
/// Where Redis is: a connection string; or the book's REDIS_HOST / REDIS_PORT / REDIS_PASSWORD for a single Redis; or
/// REDIS_SENTINELS and REDIS_SENTINEL_SERVICE for a primary with replicas watched by Sentinel (docs/high-availability.md).
/// </summary>
public sealed class RedisSettings
{
    public const string Section = "Redis";

    /// <summary>Sentinel's own port, used for a sentinel address given without one.</summary>
    public const int DefaultSentinelPort = 26379;

    /// <summary>A StackExchange.Redis configuration string (host:port,password=...); wins over Host and Port.</summary>
    public string? ConnectionString { get; set; }

    public string? Host { get; set; }

    public int Port { get; set; } = 6379;

    public string? Password { get; set; }

    /// <summary>REDIS_SENTINELS: the Sentinels' addresses, host[:port] separated by commas (port 26379 when left out).</summary>
    public string? Sentinels { get; set; }

    /// <summary>REDIS_SENTINEL_SERVICE: the name the Sentinels monitor the primary under (their `sentinel monitor NAME`).</summary>
    public string? SentinelService { get; set; }

    public bool UsesSentinel => !string.IsNullOrWhiteSpace(Sentinels) || !string.IsNullOrWhiteSpace(SentinelService);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(Host) || UsesSentinel;

    /// <summary>What to show an operator: host and port (or the Sentinel service and the Sentinels), never a password.</summary>
    public string Describe()
    {
        var options = ToConfigurationOptions("describe");
        string endpoints = string.Join(",", options.EndPoints.Select(e => e.ToString()?.Replace("Unspecified/", "")));
        return string.IsNullOrEmpty(options.ServiceName) ? endpoints : $"Sentinel service {options.ServiceName} via {endpoints}";
    }

    /// <summary>
    /// Options for a multiplexer that never gives up: it connects in the background and reconnects after a Redis
    /// restart, so callers see exceptions while Redis is away, not a dead client. With a Sentinel service, the
    /// multiplexer StackExchange.Redis returns follows the primary: it asks the Sentinels where it is, listens for their
    /// +switch-master, and reconnects to the new primary after a failover.
    /// </summary>
    public ConfigurationOptions ToConfigurationOptions(string clientName, TimeSpan? commandTimeout = null)
    {
        ConfigurationOptions options;
        if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            options = ConfigurationOptions.Parse(ConnectionString);
        }
        else if (UsesSentinel)
        {
            options = new ConfigurationOptions { ServiceName = SentinelService?.Trim() };
            foreach (var (host, port) in ParseSentinels(Sentinels, out _))
            {
                options.EndPoints.Add(host, port);
            }
        }
        else
        {
            options = new ConfigurationOptions { EndPoints = { { Host!, Port } } };
        }

        if (string.IsNullOrEmpty(options.Password) && !string.IsNullOrEmpty(Password))
        {
            options.Password = Password;
        }

        options.AbortOnConnectFail = false;
        options.ClientName = clientName;
        options.ConnectTimeout = 5000;
        options.ConnectRetry = 3;
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        int timeout = (int)(commandTimeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        options.SyncTimeout = timeout;
        options.AsyncTimeout = timeout;
        return options;
    }

    /// <summary>The sentinel addresses of REDIS_SENTINELS; <paramref name="errors"/> names each one that is not host[:port].</summary>
    public static IReadOnlyList<(string Host, int Port)> ParseSentinels(string? text, out IReadOnlyList<string> errors)
    {
        var found = new List<(string, int)>();
        var bad = new List<string>();
        foreach (var item in (text ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // host, host:port, or [IPv6]:port; a bare IPv6 address would be ambiguous.
            int close = item.StartsWith('[') ? item.IndexOf(']') : -1;
            int colon = item.IndexOf(':', Math.Max(0, close));
            string host = close > 0 ? item[1..close] : colon < 0 ? item : item[..colon];
            int port = DefaultSentinelPort;
            bool ok = host.Length > 0 && (close > 0 || !host.Contains(':'))
                      && (colon < 0 ? close < 0 || close == item.Length - 1 : colon == (close > 0 ? close + 1 : colon))
                      && (colon < 0 || int.TryParse(item[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port))
                      && port is >= 1 and <= 65535;
            if (ok)
            {
                found.Add((host, port));
            }
            else
            {
                bad.Add(item);
            }
        }

        errors = bad;
        return found;
    }

    public IEnumerable<string> Validate()
    {
        if (!IsConfigured)
        {
            yield return "Redis is not configured: set REDIS_HOST, or REDIS_SENTINELS and REDIS_SENTINEL_SERVICE (or Redis:ConnectionString).";
        }

        if (Port is < 1 or > 65535)
        {
            yield return $"Redis port must be from 1 to 65535 (got {Port}).";
        }

        if (UsesSentinel)
        {
            if (!string.IsNullOrWhiteSpace(Host) || !string.IsNullOrWhiteSpace(ConnectionString))
            {
                yield return "Redis is configured twice: set either REDIS_HOST (or Redis:ConnectionString) for a single Redis, " +
                             "or REDIS_SENTINELS and REDIS_SENTINEL_SERVICE for Sentinel, not both.";
            }

            if (string.IsNullOrWhiteSpace(SentinelService))
            {
                yield return "REDIS_SENTINELS is set but REDIS_SENTINEL_SERVICE is not: name the primary as the Sentinels " +
                             "monitor it (their `sentinel monitor NAME ...`, often mymaster).";
            }

            var sentinels = ParseSentinels(Sentinels, out var bad);
            if (string.IsNullOrWhiteSpace(Sentinels))
            {
                yield return "REDIS_SENTINEL_SERVICE is set but REDIS_SENTINELS is not: give the Sentinels' addresses, " +
                             "host:port separated by commas (e.g. sentinel-0:26379,sentinel-1:26379).";
            }
            else if (bad.Count > 0)
            {
                yield return $"REDIS_SENTINELS must list host:port addresses separated by commas, with ports from 1 to 65535; " +
                             $"not valid: {string.Join(", ", bad.Select(b => $"\"{b}\""))}.";
            }
            else if (sentinels.Count == 0)
            {
                yield return "REDIS_SENTINELS lists no address.";
            }
        }

        if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            string? error = null;
            try
            {
                ConfigurationOptions.Parse(ConnectionString);
            }
            catch (Exception ex) when (ex is ArgumentException or RedisConnectionException)
            {
                error = $"Redis connection string is not valid: {ex.Message}";
            }

            if (error is not null)
            {
                yield return error;
            }
        }
    }
}
