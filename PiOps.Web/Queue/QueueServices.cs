using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Web.Configuration;
using PiOps.Web.Redis;

namespace PiOps.Web.Queue;

/// <summary>The queue and its Redis: settings, the one connection, the one background reader and the actions.</summary>
public static class QueueServices
{
    public static WebApplicationBuilder AddQueue(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<DashboardOptions>(DashboardOptions.Section, o => o.Validate());
        services.AddValidatedOptions<EmbeddedOptions>(EmbeddedOptions.Section, o => o.Validate());
        services.AddValidatedOptions<QueueOptions>(QueueOptions.Section, o => o.Validate().Select(e => "Queue: " + e));
        services.AddValidatedOptions<RedisSettings>(RedisSettings.Section, o => o.IsConfigured ? o.Validate() : [])
            .Configure<IConfiguration>(MapBookVariables);

        // Singletons own the shared live state; components only render it.
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<QueueMonitor>();
        services.AddSingleton<IQueueState>(sp => sp.GetRequiredService<QueueMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<QueueMonitor>());
        // Pages, the API and the hub get the guarded face (Security/GuardedQueueOperations), never this one.
        services.AddSingleton<QueueOperations>();
        services.AddSingleton<EnqueueIdempotency>();
        return builder;
    }

    /// <summary>
    /// REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_USERNAME, REDIS_TLS, REDIS_TLS_CA_FILE and the REDIS_SENTINEL*
    /// variables, as the workers use them, also configure the dashboard.
    /// </summary>
    private static void MapBookVariables(RedisSettings s, IConfiguration c)
    {
        if (!string.IsNullOrWhiteSpace(c["REDIS_HOST"]))
        {
            s.Host = c["REDIS_HOST"];
        }

        if (int.TryParse(c["REDIS_PORT"], out int port))
        {
            s.Port = port;
        }

        if (!string.IsNullOrWhiteSpace(c["REDIS_PASSWORD"]))
        {
            s.Password = c["REDIS_PASSWORD"];
        }

        // The Sentinel variables of the workers too (docs/high-availability.md).
        if (!string.IsNullOrWhiteSpace(c["REDIS_SENTINELS"]))
        {
            s.Sentinels = c["REDIS_SENTINELS"];
        }

        if (!string.IsNullOrWhiteSpace(c["REDIS_SENTINEL_SERVICE"]))
        {
            s.SentinelService = c["REDIS_SENTINEL_SERVICE"];
        }

        s.ReadTlsAndUserVariables(name => c[name]);
    }
}
