using Microsoft.Extensions.Logging;
using PiOps.Shared.Queue;
using PiOps.Shared.Telemetry;

namespace PiOps.Worker.Processing;

/// <summary>The worker's life around the loop: heartbeats and the recovery of dead workers, draining, leaving, and retries through Redis outages.</summary>
public sealed partial class QueueWorkerService
{
    /// <summary>Queue empty, and no other worker holds an entry: recovers dead workers' entries first.</summary>
    private async Task<bool> IsDrainedAsync()
    {
        var recovered = await recovery.RecoverAsync(state.Id);
        ReportRecovered(recovered);
        var drain = await queue.GetDrainStateAsync();
        if (drain.IsDrained)
        {
            return true;
        }

        if (drain.Queued == 0 && !_waitingNoted)
        {
            _waitingNoted = true;
            console.Line($"queue empty; waiting for {drain.OthersInFlight} in-flight task(s) of other workers to finish or be recovered");
        }

        return false;
    }

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        var interval = _o.Queue.HeartbeatTtl / 5;
        int beat = 0;
        while (!ct.IsCancellationRequested)
        {
            await DelayAsync(interval, ct);
            if (ct.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await queue.BeatAsync(state.Snapshot());
                if (++beat % 2 == 0)
                {
                    ReportRecovered(await recovery.RecoverAsync(state.Id));
                }
            }
            catch (Exception ex) when (RedisFaults.IsTransient(ex))
            {
                log.LogDebug("Heartbeat failed: {Message}", ex.Message);
            }
        }
    }

    private void ReportRecovered(IReadOnlyList<Recovered> recovered)
    {
        foreach (var r in recovered.Where(r => r.Requeued + r.DeadLettered > 0))
        {
            console.Line($"recovered {r.Requeued} task(s) of stopped worker {r.WorkerId}; dead-lettered {r.DeadLettered}");
        }
    }

    /// <summary>Stores what finished, gives back whatever else is still in flight, then leaves the registry.</summary>
    private async Task LeaveAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        bool done = await RetryRedisAsync(async () =>
        {
            if (_finished.Count > 0)
            {
                NoteSkipped(await StoreAndTakeAsync(take: 0));
            }

            int returned = await queue.ReturnInFlightAsync();
            if (returned > 0)
            {
                console.Line($"returned {returned} task(s) to the head of the queue");
            }

            await queue.UnregisterAsync();
        }, cts.Token, "leave the queue");
        foreach (var (span, _) in _pending)
        {
            // Not stored: a live worker recovers the entry and its next attempt joins the same trace.
            QueueTelemetry.Fail(span, "not_stored", "the worker stopped before storing the result");
            span?.Dispose();
        }

        if (!done)
        {
            log.LogWarning("Could not reach Redis while stopping; a live worker recovers this worker's in-flight task once its heartbeat expires");
        }
    }

    /// <summary>Retries a Redis step through outages until it succeeds or <paramref name="giveUp"/> fires.</summary>
    private async Task<bool> RetryRedisAsync(Func<Task> step, CancellationToken giveUp, string what)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await step();
                return true;
            }
            catch (Exception ex) when (RedisFaults.IsTransient(ex))
            {
                if (giveUp.IsCancellationRequested)
                {
                    return false;
                }

                var delay = RedisFaults.Backoff(attempt);
                log.LogWarning("Redis unavailable (attempt {Attempt}) to {What}: {Message}; retrying in {Delay:F1} s",
                    attempt, what, ex.Message, delay.TotalSeconds);
                liveness.Touch();
                await DelayAsync(delay, giveUp);
                if (giveUp.IsCancellationRequested)
                {
                    return false;
                }
            }
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
