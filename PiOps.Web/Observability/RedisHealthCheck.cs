using PiOps.Shared.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PiOps.Web.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Observability;

/// <summary>Readiness: Redis answers a PING within <see cref="Timeout"/>.</summary>
public sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    /// <summary>
    /// Shorter than the client's 5 s command timeout and than a probe's usual timeoutSeconds, so a Redis that holds its
    /// connections open but answers nothing (stopped, stuck) is reported as 503 rather than left to the prober's clock.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.Multiplexer.GetDatabase().PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"{redis.Description}: PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (RedisFailure.Is(ex, cancellationToken))
        {
            return HealthCheckResult.Unhealthy(ex is TimeoutException
                ? $"{redis.Description} did not answer a PING within {Timeout.TotalSeconds:0} s"
                : $"{redis.Description} is not answering: {ex.Message.Split('\n')[0]}");
        }
    }
}
