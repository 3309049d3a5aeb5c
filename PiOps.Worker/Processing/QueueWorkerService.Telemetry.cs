using System.Diagnostics;
using PiOps.Shared.Queue;
using PiOps.Shared.Telemetry;

namespace PiOps.Worker.Processing;

/// <summary>The worker loop's spans, measurements and notes on stores: a task's process and settle spans, its durations, and the results a store did not keep.</summary>
public sealed partial class QueueWorkerService
{
    // The spans' names, made once: "process queue:task" and so on (messaging semantic conventions: operation, then destination).
    private string ProcessSpanName => field ??= "process " + _o.Queue.QueueName;

    private string ReceiveSpanName => field ??= "receive " + _o.Queue.QueueName;

    private string SettleSpanName => field ??= "settle " + _o.Queue.QueueName;

    /// <summary>
    /// The task's span in this worker: it joins the trace the envelope carries (a plain entry starts one), begins when
    /// the entry was taken, and ends when its result is stored. Its first child is that take.
    /// </summary>
    private Activity? StartProcess(TaskEnvelope task)
    {
        string q = _o.Queue.QueueName;
        var process = QueueTelemetry.Source.StartActivity(ProcessSpanName, ActivityKind.Consumer,
            QueueTelemetry.ParentOf(task.TraceParent), startTime: _taken.From);
        if (process is null)
        {
            return null;
        }

        process.SetTag("messaging.system", QueueTelemetry.MessagingSystem);
        process.SetTag("messaging.operation.type", "process");
        process.SetTag("messaging.destination.name", q);
        process.SetTag("messaging.message.id", task.Id);
        process.SetTag("messaging.client.id", state.Id);
        process.SetTag("piops.task.iterations", task.Iterations);
        process.SetTag("piops.task.attempt", task.Attempt);
        var receive = QueueTelemetry.Source.StartActivity(ReceiveSpanName, ActivityKind.Client, process.Context, startTime: _taken.From);
        if (receive is not null)
        {
            receive.SetTag("messaging.system", QueueTelemetry.MessagingSystem);
            receive.SetTag("messaging.operation.type", "receive");
            receive.SetTag("messaging.destination.name", q);
            receive.SetEndTime(_taken.To.UtcDateTime);
            receive.Stop();
        }

        Activity.Current = process;
        return process;
    }

    private Activity? StartSettle(Activity? process)
    {
        if (process is null)
        {
            return null;
        }

        var settle = QueueTelemetry.Source.StartActivity(SettleSpanName, ActivityKind.Client, process.Context);
        settle?.SetTag("messaging.system", QueueTelemetry.MessagingSystem);
        settle?.SetTag("messaging.operation.type", "settle");
        settle?.SetTag("messaging.destination.name", _o.Queue.QueueName);
        return settle;
    }

    /// <summary>Entries taken and pi terms computed in the batch being run, added to their counters once it ends.</summary>
    private (long Consumed, long Iterations) _batchCounts;

    /// <summary>
    /// Adds the batch's counts: two measurements a batch, not two a task (each is a lookup of the queue's attributes in
    /// the SDK's aggregator). A counter's sum is all a reader sees, so it is the same; it is only up to a batch later.
    /// </summary>
    private void AddBatchCounts()
    {
        var (consumed, iterations) = _batchCounts;
        _batchCounts = default;
        if (consumed > 0 && QueueTelemetry.ConsumedMessages.Enabled)
        {
            QueueTelemetry.ConsumedMessages.Add(consumed, _tags);
        }

        if (iterations > 0 && QueueTelemetry.PiIterations.Enabled)
        {
            QueueTelemetry.PiIterations.Add(iterations, _tags);
        }
    }

    /// <summary>The stored tasks: their process spans end, their durations and counts are recorded.</summary>
    private void EndProcessed(int skipped)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        bool measured = QueueTelemetry.ProcessDuration.Enabled;
        long now = measured ? Stopwatch.GetTimestamp() : 0;
        foreach (var (span, takenAt) in _pending)
        {
            span?.Dispose();
            if (measured && takenAt != 0)
            {
                QueueTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(takenAt, now).TotalSeconds, _tags);
            }
        }

        if (QueueTelemetry.TasksDone.Enabled)
        {
            QueueTelemetry.TasksDone.Add(_pending.Count - skipped, _tags);
        }
    }

    /// <summary>The start of a take, when anything listens (a span or a duration needs it); else nothing is read.</summary>
    private (DateTimeOffset, long) NoteTakeStart() =>
        QueueTelemetry.Source.HasListeners() || QueueTelemetry.ProcessDuration.Enabled
            ? (DateTimeOffset.UtcNow, Stopwatch.GetTimestamp())
            : default;

    private void NoteTaken((DateTimeOffset At, long Timestamp) from, int held)
    {
        if (from.Timestamp == 0)
        {
            return;
        }

        _taken = (from.At, DateTimeOffset.UtcNow, from.Timestamp);
        if (held > 0 && QueueTelemetry.OperationDuration.Enabled)
        {
            var tags = _tags;
            tags.Add("messaging.operation.name", "receive");
            QueueTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(from.Timestamp).TotalSeconds, tags);
        }
    }

    /// <summary>
    /// Results the store did not keep. Skipped: stored by an earlier try whose reply a Redis stall swallowed (counted
    /// once). Fenced: their task was recovered for another attempt while this worker was cut off from Redis longer than
    /// its heartbeat lives; that attempt's result is the one kept, and this one is refused, said and counted.
    /// </summary>
    private void NoteSkipped(TakeResult step)
    {
        if (step.Skipped > 0)
        {
            console.Line($"{step.Skipped} result(s) not stored again: already stored by an earlier try");
        }

        foreach (var (_, result) in step.Fenced)
        {
            console.Line($"task {result.Id} attempt {result.Attempt}: result refused: the task was recovered for another attempt "
                + "while this worker was cut off from Redis, and that attempt's result is the one kept");
        }

        if (step.Fenced.Count > 0 && QueueTelemetry.TasksFenced.Enabled)
        {
            QueueTelemetry.TasksFenced.Add(step.Fenced.Count, _tags);
        }
    }
}
