using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PiOps.Web.Redis;

namespace PiOps.Web.Observability;

/// <summary>Prints the one line a new user needs: where the dashboard is and which Redis it uses.</summary>
public sealed class StartupBanner(IServer server, IHostApplicationLifetime lifetime, RedisConnection redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            string workers = redis.IsEmbedded
                ? $"; start workers with REDIS_HOST=127.0.0.1 REDIS_PORT={redis.Settings.Port} REDIS_PASSWORD=\"$(cat '{redis.PasswordFile}')\""
                : "";
            Console.WriteLine($"PiOps dashboard listening on {string.Join(", ", addresses)} · Redis: {redis.Description}{workers}");
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
