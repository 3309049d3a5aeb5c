using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PiOps.Shared.Pi;
using PiOps.Shared.Queue;
using PiOps.Worker.Configuration;
using PiOps.Worker.Liveness;

namespace PiOps.Worker.Processing;

/// <summary>
/// The worker loop: take a task, compute it, store the result, with at-least-once delivery. At every step the comments
/// say where the task is if the process dies right there.
/// </summary>
public sealed class QueueWorkerService(
    WorkerQueue queue,
    DeadWorkerRecovery recovery,
    WorkerState state,
    LivenessFile liveness,
    BookConsole console,
    IOptions<WorkerOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<QueueWorkerService> log,
    TimeProvider time) : BackgroundService
{
    private readonly WorkerOptions _o = options.Value;
    private bool _waitingNoted;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        console.Line($"starting (worker {state.Id}, queue {_o.Queue.QueueName})");

        // After SIGTERM the current task has ShutdownTimeout to finish; then it is cancelled and given back.
        using var hardStop = new CancellationTokenSource();
        using var onStop = stopping.Register(() => hardStop.CancelAfter(_o.ShutdownTimeout));
        using var beatStop = new CancellationTokenSource();
        Task beating = Task.CompletedTask;
        try
        {
            // The first heartbeat goes out before the first pop: an in-flight list is never without a heartbeat.
            if (!await RetryRedisAsync(() => queue.BeatAsync(state.Snapshot()), stopping, "register"))
            {
                return;
            }

            beating = HeartbeatLoopAsync(beatStop.Token);
            await RunLoopAsync(stopping, hardStop.Token);
        }
        catch (Exception ex) when (!RedisFaults.IsTransient(ex) && ex is not OperationCanceledException)
        {
            // A bug, not an outage. Whatever is in flight stays in the in-flight list and is recovered by a live worker.
            log.LogError(ex, "Worker stopped by an unexpected error");
            Environment.ExitCode = 1;
        }
        finally
        {
            state.Phase = "stopping";
            await beatStop.CancelAsync();
            await beating;
            await LeaveAsync();
            lifetime.StopApplication();
        }
    }

    private async Task RunLoopAsync(CancellationToken stopping, CancellationToken hardStop)
    {
        int failures = 0;
        bool pausedNoted = false;
        while (!stopping.IsCancellationRequested)
        {
            liveness.Touch();
            try
            {
                if (await queue.IsPausedAsync())
                {
                    if (!pausedNoted)
                    {
                        console.Line("paused: taking no new task until the queue is resumed");
                        pausedNoted = true;
                    }

                    state.Phase = "paused";
                    await DelayAsync(TimeSpan.FromSeconds(1), stopping);
                    continue;
                }

                if (pausedNoted)
                {
                    console.Line("resumed");
                    pausedNoted = false;
                    state.Phase = "idle";
                }

                // If the process dies during the pop, the entry is either still in the queue or already in our
                // in-flight list: BLMOVE is one atomic step.
                string? raw = await queue.TakeAsync(_o.PopTimeout);
                failures = 0;
                if (raw is null)
                {
                    state.Phase = "idle";
                    if (_o.CompleteWhenEmpty && await IsDrainedAsync())
                    {
                        console.Line("no more work");
                        return;
                    }

                    continue;
                }

                if (stopping.IsCancellationRequested)
                {
                    // Taken after SIGTERM: not ours to start. LeaveAsync puts it back at the head of the queue.
                    return;
                }

                if (!await ProcessAsync(raw, hardStop))
                {
                    return;
                }
            }
            catch (Exception ex) when (RedisFaults.IsTransient(ex))
            {
                failures++;
                var delay = RedisFaults.Backoff(failures);
                log.LogWarning("Redis unavailable (attempt {Attempt}): {Message}; retrying in {Delay:F1} s",
                    failures, ex.Message, delay.TotalSeconds);
                await DelayAsync(delay, stopping);
            }
        }
    }

    /// <summary>Runs one entry. Returns false when the worker must stop (shutdown timeout reached).</summary>
    private async Task<bool> ProcessAsync(string raw, CancellationToken hardStop)
    {
        var entry = TaskEntry.Parse(raw, _o.Queue);
        if (!entry.IsValid)
        {
            // Bad input is never retried: it goes to the dead letters whole, with the reason, in one step.
            console.Line($"dead-lettered entry: {entry.Error}");
            var letter = new DeadLetter(raw, entry.Error!, null, 1, state.Id, time.GetUtcNow());
            await RetryRedisAsync(() => queue.DeadLetterAsync(raw, letter), hardStop, "dead-letter");
            state.CountFailure();
            return true;
        }

        var task = entry.Task!;
        console.Line($"got task: {task.Iterations} (id {task.Id}, attempt {task.Attempt})");
        state.Started(task);
        _ = MarkProcessingAsync(task);
        var startedAt = time.GetUtcNow();
        long start = time.GetTimestamp();
        PiValue value;
        try
        {
            // Dying here: the entry sits in our in-flight list; once our heartbeat expires a live worker requeues it.
            value = await Task.Factory.StartNew(
                () => LeibnizPi.Compute(task.Iterations, done =>
                {
                    state.Progress(done);
                    liveness.TouchIfOlderThan(TimeSpan.FromSeconds(5));
                }, hardStop),
                hardStop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            // Out of time after SIGTERM: LeaveAsync gives the entry back unchanged, so the next worker runs it whole.
            console.Line($"shutdown timeout of {_o.ShutdownTimeout.TotalSeconds:0} s reached: giving task {task.Id} back to the queue");
            state.Abandoned();
            return false;
        }

        var elapsed = time.GetElapsedTime(start);
        console.Line($"{value} (id {task.Id}, {elapsed.TotalSeconds:F3} s)");
        var result = new TaskResult(task.Id, task.Iterations, value.ToString(), elapsed.TotalMilliseconds, state.Id,
            task.Attempt, task.EnqueuedAt, startedAt, time.GetUtcNow());

        // Dying before this completes runs the task again (at least once); the script stores the result and removes
        // the entry from the in-flight list together.
        bool stored = await RetryRedisAsync(() => queue.CompleteAsync(raw, result), hardStop, "store the result");
        state.Finished(stored);
        return stored;
    }

    private async Task MarkProcessingAsync(TaskEnvelope task)
    {
        try
        {
            await queue.MarkProcessingAsync(task);
        }
        catch (Exception ex) when (RedisFaults.IsTransient(ex))
        {
            log.LogDebug("Could not mark task {Id} as processing: {Message}", task.Id, ex.Message);
        }
    }

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

    /// <summary>Gives back whatever is still in flight, then leaves the registry.</summary>
    private async Task LeaveAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        bool done = await RetryRedisAsync(async () =>
        {
            int returned = await queue.ReturnInFlightAsync();
            if (returned > 0)
            {
                console.Line($"returned {returned} task(s) to the head of the queue");
            }

            await queue.UnregisterAsync();
        }, cts.Token, "leave the queue");
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
