using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>Where Redis is: a connection string, or the book's REDIS_HOST / REDIS_PORT / REDIS_PASSWORD.</summary>
public sealed class RedisSettings
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string (host:port,password=...); wins over Host and Port.</summary>
    public string? ConnectionString { get; set; }

    public string? Host { get; set; }

    public int Port { get; set; } = 6379;

    public string? Password { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(Host);

    /// <summary>What to show an operator: host and port, never the password.</summary>
    public string Describe()
    {
        var options = ToConfigurationOptions("describe");
        return string.Join(",", options.EndPoints.Select(e => e.ToString()?.Replace("Unspecified/", "")));
    }

    /// <summary>
    /// Options for a multiplexer that never gives up: it connects in the background and reconnects after a Redis
    /// restart, so callers see exceptions while Redis is away, not a dead client.
    /// </summary>
    public ConfigurationOptions ToConfigurationOptions(string clientName, TimeSpan? commandTimeout = null)
    {
        var options = !string.IsNullOrWhiteSpace(ConnectionString)
            ? ConfigurationOptions.Parse(ConnectionString)
            : new ConfigurationOptions { EndPoints = { { Host!, Port } } };
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

    public IEnumerable<string> Validate()
    {
        if (!IsConfigured)
        {
            yield return "Redis is not configured: set REDIS_HOST (or Redis:ConnectionString).";
        }

        if (Port is < 1 or > 65535)
        {
            yield return $"Redis port must be from 1 to 65535 (got {Port}).";
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
