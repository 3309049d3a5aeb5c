using StackExchange.Redis;

namespace PiOps.Shared.Redis;

/// <summary>
/// Makes the long-lived multiplexer of a worker or a dashboard. Without Sentinel, StackExchange.Redis returns at once
/// (AbortOnConnectFail is off) and connects in the background. With a Sentinel service it throws instead when no
/// Sentinel names a primary it can reach in time ("Sentinel: Failed connecting to configured primary"): Sentinels just
/// started or electing, a primary down with no replica to promote, or a machine too busy to finish the handshake. That
/// is an outage like any other, so it is waited out here, each attempt told through <c>waiting</c>, instead of ending
/// the process with an unhandled exception.
/// </summary>
public static class RedisConnector
{
    public static async Task<ConnectionMultiplexer> ConnectAsync(Func<ConfigurationOptions> options, Action<string> waiting,
        CancellationToken cancel = default)
    {
        for (int attempt = 1; ; attempt++)
        {
            var o = options();
            try
            {
                // ConfigureAwait(false): the dashboard blocks on this in a constructor, maybe under a synchronization context.
                return await ConnectionMultiplexer.ConnectAsync(o).ConfigureAwait(false);
            }
            catch (RedisConnectionException ex) when (!string.IsNullOrEmpty(o.ServiceName))
            {
                var delay = Backoff(attempt);
                waiting($"Redis Sentinel service {o.ServiceName} via {string.Join(",", o.EndPoints.Select(e => e.ToString()?.Replace("Unspecified/", "")))}: " +
                        $"not connected, no Sentinel has named a primary that answers ({ex.Message.Split('\n')[0]}); " +
                        $"attempt {attempt}, trying again in {delay.TotalSeconds:0.#} s");
                await Task.Delay(delay, cancel).ConfigureAwait(false);
            }
        }
    }

    /// <summary>0.5 s, 1 s, 2 s ... up to 10 s.</summary>
    public static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(10_000, 500 * Math.Pow(2, Math.Min(attempt - 1, 10))));
}
