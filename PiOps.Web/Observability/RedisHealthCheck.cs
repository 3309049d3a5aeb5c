using Microsoft.Extensions.Diagnostics.HealthChecks;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Observability;

/// <summary>Readiness: Redis answers a PING.</summary>
public sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.Multiplexer.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"{redis.Description}: PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{redis.Description} is not answering: {ex.Message.Split('\n')[0]}");
        }
    }
}
