using PiOps.Shared.Redis;

namespace PiOps.Web.Redis;

/// <summary>
/// A write that must reach Redis though Redis is away now: tried now, then every second in the background while Redis
/// fails, for as long as waiting is worth it. Used for what an outage must not cost (audit entries, idempotency
/// outcomes); the caller has already said what it could without Redis.
/// </summary>
public static class RedisLater
{
    /// <summary>Tries <paramref name="write"/> until it succeeds or <paramref name="giveUpAfter"/>; then logs <paramref name="gaveUp"/>.</summary>
    public static void Write(Func<Task> write, TimeSpan giveUpAfter, ILogger log, string gaveUp)
    {
        _ = Task.Run(async () =>
        {
            var until = DateTimeOffset.UtcNow + giveUpAfter;
            using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (true)
            {
                try
                {
                    await write();
                    return;
                }
                catch (Exception ex) when (RedisFailure.Is(ex))
                {
                    if (DateTimeOffset.UtcNow > until)
                    {
                        log.LogWarning("{GaveUp} ({Message})", gaveUp, ex.Message.Split('\n')[0]);
                        return;
                    }
                }

                await tick.WaitForNextTickAsync();
            }
        });
    }
}
