using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PiOps.Shared.Pi;
using PiOps.Shared.Queue;
using PiOps.Shared.Telemetry;
using PiOps.Worker.Configuration;
using PiOps.Worker.Liveness;

namespace PiOps.Worker.Processing;

/// <summary>
/// The worker loop: take a task, compute it, store the result, with at-least-once delivery. At every step the comments
/// say where the task is if the process dies right there.
/// </summary>
public sealed partial class QueueWorkerService(
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
        _tags = QueueTelemetry.QueueTags(_o.Queue.QueueName);
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
            _compute?.Dispose();
            lifetime.StopApplication();
        }
    }

    /// <summary>At most this many entries are taken in one round trip, and only while every task is small.</summary>
    internal const int MaxBatch = 64;

    /// <summary>
    /// At most this many pi terms (about 40 ms of one core) in the entries one round trip takes: a batch of small tasks
    /// grows to MaxBatch of the smallest, fewer of larger ones, so a worker holds little work that a free one could run.
    /// </summary>
    internal const long BatchTerms = 64_000_000;

    /// <summary>The next round trip's batch: doubling while the tasks stay small, within <see cref="BatchTerms"/>; one after a long task.</summary>
    internal static int NextBatch(int batch, long largest) =>
        largest > CurrentTask.SmallTask ? 1 : (int)Math.Clamp(Math.Min(batch * 2L, BatchTerms / Math.Max(1, largest)), 1, MaxBatch);

    /// <summary>Tasks run but not yet stored: still in our in-flight list, so they run again if we die now.</summary>
    private readonly List<FinishedTask> _finished = [];

    /// <summary>Beside each of <see cref="_finished"/>: its process span (open until stored) and when it was taken.</summary>
    private readonly List<(Activity? Span, long TakenAt)> _pending = [];

    /// <summary>The round trip that brought the entries now held, for their receive spans and process durations.</summary>
    private (DateTimeOffset From, DateTimeOffset To, long At) _taken;

    private TagList _tags;

    /// <summary>Where long tasks run: one thread for the worker's life, made with its first long task.</summary>
    private ComputeThread Compute => _compute ??= new ComputeThread();

    private ComputeThread? _compute;

    private async Task RunLoopAsync(CancellationToken stopping, CancellationToken hardStop)
    {
        int failures = 0;
        bool pausedNoted = false;
        int batch = 1;
        while (!stopping.IsCancellationRequested)
        {
            liveness.TouchIfOlderThan(TimeSpan.FromSeconds(1));
            try
            {
                // One round trip stores what we finished and takes what comes next. Dying before it returns: the
                // finished tasks are still in flight and run again (at least once). After it: the taken entries sit in
                // our in-flight list, recovered by a live worker if we die. It returns everything that list holds, so
                // an entry taken by a call whose reply an outage swallowed is run now rather than forgotten.
                var step = await StoreAndTakeAsync(batch);
                failures = 0;
                NoteSkipped(step);
                var held = step.Held;
                if (step.Paused && held.Count == 0)
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

                if (pausedNoted && !step.Paused)
                {
                    console.Line("resumed");
                    pausedNoted = false;
                    state.Phase = "idle";
                }

                if (held.Count == 0)
                {
                    // The queue is empty: wait for one entry. If the process dies during the pop, the entry is either
                    // still in the queue or already in our in-flight list: BLMOVE is one atomic step.
                    var popFrom = NoteTakeStart();
                    string? raw = await queue.TakeAsync(_o.PopTimeout);
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

                    NoteTaken(popFrom, 1);
                    held = [raw];
                }

                if (stopping.IsCancellationRequested)
                {
                    // Taken after SIGTERM: not ours to start. LeaveAsync puts them back at the head of the queue.
                    return;
                }

                var (goOn, largest) = await RunBatchAsync(held, stopping, hardStop);
                if (!goOn)
                {
                    return;
                }

                // Small tasks share round trips, more of them while they stay small; any longer task resets to one.
                batch = NextBatch(batch, largest);
            }
            catch (Exception ex) when (RedisFaults.IsTransient(ex))
            {
                if (ex is OperationCanceledException && stopping.IsCancellationRequested)
                {
                    return; // our own stop, not an outage
                }

                failures++;
                var delay = RedisFaults.Backoff(failures);
                log.LogWarning("Redis unavailable (attempt {Attempt}): {Message}; retrying in {Delay:F1} s",
                    failures, ex.Message, delay.TotalSeconds);
                await DelayAsync(delay, stopping);
            }
        }
    }

    /// <summary>
    /// Runs the entries we hold, in order. Returns whether to go on (false once the shutdown timeout is reached), and
    /// the largest task's iterations. After SIGTERM it starts no further entry: LeaveAsync gives those back.
    /// </summary>
    private async Task<(bool GoOn, long Largest)> RunBatchAsync(IReadOnlyList<string> held, CancellationToken stopping,
        CancellationToken hardStop)
    {
        try
        {
            long largest = 0;
            for (int i = 0; i < held.Count && !(i > 0 && stopping.IsCancellationRequested); i++)
            {
                string raw = held[i];
                var entry = TaskEntry.Parse(raw, _o.Queue);
                if (!entry.IsValid)
                {
                    // Bad input is never retried: it goes to the dead letters whole, with the reason, in one step.
                    await DeadLetterAsync(raw, entry, hardStop);
                    continue;
                }

                var task = entry.Task!;
                // Small: run on this thread, no 'processing' record, may share a round trip (CurrentTask.SmallTask says why).
                bool small = task.Iterations <= CurrentTask.SmallTask;
                largest = Math.Max(largest, task.Iterations);
                bool last = !small && i < held.Count - 1;
                if (last)
                {
                    // A long task must not hold the entries behind it while other workers are free: they go back to
                    // the head of the queue, unchanged, before it starts. Dying before that: all are recovered.
                    var rest = held.Skip(i + 1).ToList();
                    await RetryRedisAsync(() => queue.GiveBackAsync(rest), hardStop, "give back entries");
                }

                if (!await RunTaskAsync(raw, task, small, hardStop))
                {
                    console.Flush();
                    return (false, largest);
                }

                if (last)
                {
                    break;
                }
            }

            console.Flush();
            return (true, largest);
        }
        finally
        {
            AddBatchCounts();
        }
    }

    /// <summary>An entry that cannot be run, in a span of its own (it carries no trace to join).</summary>
    private async Task DeadLetterAsync(string raw, TaskEntry entry, CancellationToken hardStop)
    {
        using var span = QueueTelemetry.Source.StartActivity(ProcessSpanName, ActivityKind.Consumer);
        QueueTelemetry.Fail(span, "invalid_entry", entry.Error);
        console.Line($"dead-lettered entry: {entry.Error}");
        var letter = new DeadLetter(raw, entry.Error!, null, 1, state.Id, time.GetUtcNow());
        await RetryRedisAsync(() => queue.DeadLetterAsync(raw, letter), hardStop, "dead-letter");
        state.CountFailure();
        if (QueueTelemetry.TasksDeadLettered.Enabled)
        {
            QueueTelemetry.ConsumedMessages.Add(1, _tags);
            QueueTelemetry.TasksFailed.Add(1, _tags);
            QueueTelemetry.TasksDeadLettered.Add(1, _tags);
        }
    }

    /// <summary>Runs one task. Returns false when the worker must stop (shutdown timeout reached).</summary>
    private async Task<bool> RunTaskAsync(string raw, TaskEnvelope task, bool small, CancellationToken hardStop)
    {
        // Current only inside this method (an async method's changes to Activity.Current stay in it); it ends when stored.
        var process = StartProcess(task);
        _batchCounts.Consumed++;

        // The book's lines; a small task's wait in the buffer until its batch ends (one write instead of two per task).
        string got = $"got task: {task.Iterations} (id {task.Id}, attempt {task.Attempt})";
        if (small)
        {
            console.Buffered(got);
        }
        else
        {
            console.Line(got);
        }

        state.Started(task);
        if (!small)
        {
            _ = MarkProcessingAsync(task);
        }

        var startedAt = time.GetUtcNow();
        long start = time.GetTimestamp();
        PiValue value;
        var compute = process is null ? null : QueueTelemetry.Source.StartActivity("compute pi");
        compute?.SetTag("piops.task.iterations", task.Iterations);
        try
        {
            // Dying here: the entry sits in our in-flight list; once our heartbeat expires a live worker requeues it.
            // A small task runs right here; a long one on the worker's compute thread, so the loop's pool thread stays free.
            value = small
                ? LeibnizPi.Compute(task.Iterations, null, hardStop)
                : await Compute.RunAsync(() => LeibnizPi.Compute(task.Iterations, done =>
                    {
                        state.Progress(done);
                        liveness.TouchIfOlderThan(TimeSpan.FromSeconds(5));
                    }, hardStop));
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            // Out of time after SIGTERM: LeaveAsync gives the entry back unchanged, so the next worker runs it whole.
            QueueTelemetry.Fail(compute, "shutdown_timeout");
            compute?.Dispose();
            console.Line($"shutdown timeout of {_o.ShutdownTimeout.TotalSeconds:0} s reached: giving task {task.Id} back to the queue");
            state.Abandoned();
            QueueTelemetry.Fail(process, "shutdown_timeout", "given back to the queue");
            process?.Dispose();
            return false;
        }

        compute?.Dispose();
        if (process is not null)
        {
            Activity.Current = process;
        }

        var elapsed = time.GetElapsedTime(start);
        state.Computed(task.Iterations, elapsed);
        _batchCounts.Iterations += task.Iterations;

        string pi = value.ToString();
        console.Buffered($"{pi} (id {task.Id}, {elapsed.TotalSeconds:F3} s)");
        var result = new TaskResult(task.Id, task.Iterations, pi, elapsed.TotalMilliseconds, state.Id,
            task.Attempt, task.EnqueuedAt, startedAt, time.GetUtcNow());

        // Stored with the next round trip (or by LeaveAsync). Dying before that runs the task again (at least once).
        _finished.Add(new FinishedTask(raw, result));
        _pending.Add((process, _taken.At));
        state.Finished(true);
        return true;
    }

    /// <summary>
    /// The loop's one round trip (see RunLoopAsync), with its telemetry: each finished task's settle span (the first
    /// holds the Redis call), then its process span ends; the newly taken entries remember this round trip as their take.
    /// </summary>
    /// <summary>
    /// How long one store-and-take round trip may take before it counts as an outage. The client times a command out
    /// after 5 s, but a round trip that neither answered nor timed out was once seen holding a worker after a network
    /// partition healed; past this guard the loop logs it and retries (a store is safe to repeat).
    /// </summary>
    private static readonly TimeSpan StoreGuard = TimeSpan.FromSeconds(15);

    private async Task<TakeResult> StoreAndTakeAsync(int take)
    {
        var from = NoteTakeStart();
        Activity?[]? settles = null;
        if (_pending.Count > 0 && _pending[0].Span is not null)
        {
            settles = new Activity?[_pending.Count];
            for (int i = 0; i < settles.Length; i++)
            {
                settles[i] = StartSettle(_pending[i].Span);
            }

            Activity.Current = settles[0];
        }

        TakeResult step;
        try
        {
            step = await queue.CompleteAndTakeAsync(_finished, take).WaitAsync(StoreGuard + _o.Queue.WaitTimeout);
        }
        catch (Exception ex) when (settles is not null)
        {
            // The tasks stay in _finished and are stored by a later round trip: only this try's spans end.
            foreach (var settle in settles)
            {
                QueueTelemetry.Fail(settle, ex.GetType().Name, ex.Message);
                settle?.Dispose();
            }

            throw;
        }

        if (settles is not null)
        {
            foreach (var settle in settles)
            {
                settle?.Dispose();
            }
        }

        EndProcessed(step.Skipped + step.Fenced.Count);
        _finished.Clear();
        _pending.Clear();
        state.Held = step.Held.Count;
        NoteTaken(from, step.Held.Count);
        return step;
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
}
