using Microsoft.Extensions.Options;
using PiOps.Shared.Redis;
using PiOps.Web.Configuration;
using StackExchange.Redis;

namespace PiOps.Web.Redis;

/// <summary>
/// The process's one Redis connection. Without a configured Redis it first starts the embedded Garnet on loopback.
/// A blocking command must never run on <see cref="Multiplexer"/>: the dashboard issues none.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly EmbeddedGarnet? _garnet;

    public RedisConnection(IOptions<RedisSettings> settings, IOptions<EmbeddedOptions> embedded, IHostEnvironment env,
        ILoggerFactory loggers)
    {
        var s = settings.Value;
        if (s.IsConfigured)
        {
            Description = $"Redis at {s.Describe()}";
            Endpoint = s.Describe();
        }
        else
        {
            var e = embedded.Value;
            string dir = Path.GetFullPath(Path.Combine(env.ContentRootPath, e.DataDirectory, "garnet"));
            PasswordFile = Path.GetFullPath(Path.Combine(env.ContentRootPath, e.DataDirectory, EmbeddedPassword.FileName));
            string password = EmbeddedPassword.LoadOrCreate(PasswordFile);
            try
            {
                _garnet = EmbeddedGarnet.Start(e.Port, dir, loggers, password);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException
                                           || ex.InnerException is System.Net.Sockets.SocketException)
            {
                throw new InvalidOperationException(
                    $"The embedded Garnet could not listen on 127.0.0.1:{e.Port} ({ex.Message}). Set Embedded__Port to a free port, " +
                    "or point PiOps at a Redis with Redis__ConnectionString or REDIS_HOST.", ex);
            }

            s = new RedisSettings { Host = "127.0.0.1", Port = e.Port, Password = password };
            IsEmbedded = true;
            Endpoint = _garnet.Endpoint;
            Description = $"embedded Garnet at {_garnet.Endpoint} (data in {dir})";
        }

        Settings = s;
        var log = loggers.CreateLogger<RedisConnection>();
        // Through Sentinel, the start waits until a primary answers (RedisConnector), saying so each attempt.
        Multiplexer = RedisConnector.ConnectAsync(() => Options(s, "piops-dashboard"), line => log.LogWarning("{Waiting}", line)).GetAwaiter().GetResult();
    }

    /// <summary>The options of every connection the dashboard makes to <paramref name="settings"/>' Redis.</summary>
    public static ConfigurationOptions Options(RedisSettings settings, string clientName)
    {
        var options = settings.ToConfigurationOptions(clientName);
        // While Redis is away, fail at once instead of queueing commands: pages show the outage within a sample, and
        // an operator's action gets an immediate, clear error rather than a late surprise.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        // The .NET thread pool reads the socket instead of StackExchange.Redis' own pool of dedicated threads: on two
        // cores the hand-offs between those threads and the pool's were most of an idle dashboard's CPU with a page
        // open (bench/README.md, page-cost).
        options.SocketManager = SocketManager.ThreadPool;
        return options;
    }

    public IConnectionMultiplexer Multiplexer { get; }

    public RedisSettings Settings { get; }

    public bool IsEmbedded { get; }

    /// <summary>Where the embedded Garnet's password is kept (0600), for workers started by hand; null with a configured Redis.</summary>
    public string? PasswordFile { get; }

    /// <summary>host:port, for workers and for the UI.</summary>
    public string Endpoint { get; }

    /// <summary>One phrase for the console and the UI: which Redis, and where its data is.</summary>
    public string Description { get; }

    public async ValueTask DisposeAsync()
    {
        await Multiplexer.CloseAsync();
        Multiplexer.Dispose();
        _garnet?.Dispose();
    }
}
