using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>
/// Where Redis is: a connection string; or the book's REDIS_HOST / REDIS_PORT / REDIS_PASSWORD for a single Redis (or
/// several REDIS_HOST addresses, the seed nodes of a Redis Cluster); or REDIS_SENTINELS and REDIS_SENTINEL_SERVICE for a
/// primary with replicas watched by Sentinel (docs/high-availability.md). REDIS_USERNAME, REDIS_TLS and
/// REDIS_TLS_CA_FILE apply to each of them.
/// </summary>
public sealed class RedisSettings
{
    public const string Section = "Redis";

    /// <summary>Sentinel's own port, used for a sentinel address given without one.</summary>
    public const int DefaultSentinelPort = 26379;

    /// <summary>A StackExchange.Redis configuration string (host:port,password=...); wins over Host and Port.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// REDIS_HOST: the book's one host (its port is <see cref="Port"/>), or several addresses host[:port] separated by
    /// commas, seed nodes of a Redis Cluster: StackExchange.Redis finds the rest of the cluster from any of them.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>REDIS_PORT: the port of REDIS_HOST, and of each REDIS_HOST address given without one.</summary>
    public int Port { get; set; } = 6379;

    public string? Password { get; set; }

    /// <summary>REDIS_USERNAME: a Redis 6 ACL user to sign in as with the password; empty: the default user.</summary>
    public string? Username { get; set; }

    /// <summary>REDIS_TLS: talk TLS to Redis (and to the Sentinels), checking each server's certificate against its name.</summary>
    public bool Tls { get; set; }

    /// <summary>
    /// REDIS_TLS_CA_FILE: a PEM file of the CA certificate(s) that signed the servers' certificates; when set, only
    /// those are trusted, not the machine's store. Turns TLS on.
    /// </summary>
    public string? TlsCaFile { get; set; }

    /// <summary>A REDIS_TLS that is neither true nor false, reported by <see cref="Validate"/>.</summary>
    private string? _badTlsVariable;

    public bool UsesTls => Tls || !string.IsNullOrWhiteSpace(TlsCaFile);

    /// <summary>REDIS_SENTINELS: the Sentinels' addresses, host[:port] separated by commas (port 26379 when left out).</summary>
    public string? Sentinels { get; set; }

    /// <summary>REDIS_SENTINEL_SERVICE: the name the Sentinels monitor the primary under (their `sentinel monitor NAME`).</summary>
    public string? SentinelService { get; set; }

    public bool UsesSentinel => !string.IsNullOrWhiteSpace(Sentinels) || !string.IsNullOrWhiteSpace(SentinelService);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(Host) || UsesSentinel;

    /// <summary>
    /// Reads REDIS_USERNAME, REDIS_TLS and REDIS_TLS_CA_FILE, as the worker and the dashboard both take them from their
    /// environment; a variable that is empty or missing leaves its setting as it was.
    /// </summary>
    public void ReadTlsAndUserVariables(Func<string, string?> variable)
    {
        if (variable("REDIS_USERNAME") is { } user && !string.IsNullOrWhiteSpace(user))
        {
            Username = user.Trim();
        }

        if (variable("REDIS_TLS") is { } tls && !string.IsNullOrWhiteSpace(tls))
        {
            switch (tls.Trim().ToLowerInvariant())
            {
                case "true" or "1" or "yes":
                    Tls = true;
                    break;
                case "false" or "0" or "no":
                    Tls = false;
                    break;
                default:
                    _badTlsVariable = tls.Trim();
                    break;
            }
        }

        if (variable("REDIS_TLS_CA_FILE") is { } ca && !string.IsNullOrWhiteSpace(ca))
        {
            TlsCaFile = ca.Trim();
        }
    }

    /// <summary>REDIS_HOST's addresses: the one host as the book gives it, or each of a comma-separated list.</summary>
    public IReadOnlyList<(string Host, int Port)> HostAddresses(out IReadOnlyList<string> errors)
    {
        string host = Host ?? "";
        if (!host.Contains(','))
        {
            // One host, exactly as before (a bare IPv6 address too); "host:port" is read as such.
            var one = ParseAddresses(host, Port, out errors);
            if (errors.Count == 0 && one.Count == 1)
            {
                return one;
            }

            errors = [];
            return host.Length == 0 ? [] : [(host, Port)];
        }

        return ParseAddresses(host, Port, out errors);
    }

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
            options = new ConfigurationOptions();
            foreach (var (host, port) in HostAddresses(out _))
            {
                options.EndPoints.Add(host, port);
            }
        }

        if (string.IsNullOrEmpty(options.Password) && !string.IsNullOrEmpty(Password))
        {
            options.Password = Password;
        }

        if (string.IsNullOrEmpty(options.User) && !string.IsNullOrWhiteSpace(Username))
        {
            options.User = Username.Trim();
        }

        if (UsesTls)
        {
            // With no SslHost, StackExchange.Redis checks (and sends as SNI) each endpoint's own host name: the
            // REDIS_HOST or REDIS_SENTINELS names here, and the names or addresses a cluster or Sentinel reports.
            options.Ssl = true;
            if (!string.IsNullOrWhiteSpace(TlsCaFile))
            {
                options.CertificateValidation += TrustOnly(LoadCaFile(TlsCaFile.Trim()));
            }
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

    /// <summary>
    /// The certificates of a PEM file; throws with a sentence for an operator when it is missing or holds none.
    /// </summary>
    internal static X509Certificate2Collection LoadCaFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"REDIS_TLS_CA_FILE {path} does not exist: mount the CA certificate there " +
                                            "(the chart's redis.external.tls.caSecret does) or unset REDIS_TLS_CA_FILE to trust the machine's CAs.", path);
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"REDIS_TLS_CA_FILE {path} is not a PEM certificate file: {ex.Message}", ex);
        }

        return roots.Count > 0 ? roots
            : throw new InvalidDataException($"REDIS_TLS_CA_FILE {path} holds no certificate (no -----BEGIN CERTIFICATE----- block).");
    }

    /// <summary>
    /// Accepts a server certificate only if it chains to one of <paramref name="roots"/> and names the host, as
    /// `redis-cli --tls --cacert` does: the machine's own CAs are not asked, so a certificate they trust is refused.
    /// </summary>
    private static RemoteCertificateValidationCallback TrustOnly(X509Certificate2Collection roots) => (_, certificate, chain, errors) =>
    {
        // A name mismatch or no certificate at all stays a refusal; only the question of the issuer is ours.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var element in chain?.ChainElements.AsEnumerable() ?? [])
        {
            custom.ChainPolicy.ExtraStore.Add(element.Certificate); // intermediates the server sent
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    };

    /// <summary>The sentinel addresses of REDIS_SENTINELS; <paramref name="errors"/> names each one that is not host[:port].</summary>
    public static IReadOnlyList<(string Host, int Port)> ParseSentinels(string? text, out IReadOnlyList<string> errors) =>
        ParseAddresses(text, DefaultSentinelPort, out errors);

    /// <summary>Addresses host[:port] or [IPv6]:port separated by commas; <paramref name="errors"/> names each one that is not.</summary>
    public static IReadOnlyList<(string Host, int Port)> ParseAddresses(string? text, int defaultPort, out IReadOnlyList<string> errors)
    {
        var found = new List<(string, int)>();
        var bad = new List<string>();
        foreach (var item in (text ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // host, host:port, or [IPv6]:port; a bare IPv6 address would be ambiguous.
            int close = item.StartsWith('[') ? item.IndexOf(']') : -1;
            int colon = item.IndexOf(':', Math.Max(0, close));
            string host = close > 0 ? item[1..close] : colon < 0 ? item : item[..colon];
            int port = defaultPort;
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

        if (!UsesSentinel && string.IsNullOrWhiteSpace(ConnectionString) && !string.IsNullOrWhiteSpace(Host))
        {
            HostAddresses(out var badHosts);
            if (badHosts.Count > 0)
            {
                yield return "REDIS_HOST must be one host, or several host:port addresses separated by commas (a Redis Cluster's " +
                             $"seed nodes), with ports from 1 to 65535; not valid: {string.Join(", ", badHosts.Select(b => $"\"{b}\""))}.";
            }
        }

        if (_badTlsVariable is not null)
        {
            yield return $"REDIS_TLS must be true or false (got \"{_badTlsVariable}\").";
        }

        if (!string.IsNullOrWhiteSpace(TlsCaFile))
        {
            string? caError = null;
            try
            {
                LoadCaFile(TlsCaFile.Trim());
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                caError = ex.Message;
            }

            if (caError is not null)
            {
                yield return caError;
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
