using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PiOps.Shared.Telemetry;
using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// Finds workers whose heartbeat expired and gives their in-flight tasks back to the queue (attempt + 1), or to the
/// dead letters once a task has used all its attempts. Any live worker runs this, and so can the dashboard; the script
/// makes sure only one of them acts on a given dead worker. Before that, it moves what an earlier version left under the
/// untagged key layout (<see cref="KeyLayoutMigration"/>).
/// </summary>
public sealed class DeadWorkerRecovery(IConnectionMultiplexer redis, QueueOptions options, string recoveredBy, ILogger? log = null)
{
    private readonly QueueKeys _keys = new(options.QueueName);
    private readonly KeyLayoutMigration _migration = new(redis, new QueueKeys(options.QueueName), log);

    /// <summary>
    /// Recovers every dead worker except <paramref name="self"/>; returns what it did. From the same heartbeats it sets
    /// the protocol version the live workers agree on (<see cref="QueueProtocol"/>).
    /// </summary>
    public async Task<IReadOnlyList<Recovered>> RecoverAsync(string? self = null)
    {
        await MigrateAsync();
        var db = redis.GetDatabase();
        var ids = (await db.SetMembersAsync(_keys.Workers)).Select(v => (string)v!).Where(id => id != self).ToArray();
        var beats = ids.Select(id => db.StringGetAsync(_keys.Heartbeat(id))).ToArray();
        var said = QueueProtocol.ReadAsync(db, _keys);
        await Task.WhenAll(beats);
        // A heartbeat that cannot be read still says its worker is alive; of which version, it cannot say: the earliest.
        await AgreeOnProtocolAsync(db, await said, beats.Select(b => b.Result.IsNull ? (int?)null : WorkerHeartbeat.Read(b.Result)?.Speaks ?? 1));
        var recovered = new List<Recovered>();
        for (int i = 0; i < ids.Length; i++)
        {
            if (beats[i].Result.IsNull)
            {
                var one = await RecoverWorkerAsync(db, ids[i]);
                if (one is not null)
                {
                    recovered.Add(one);
                }
            }
        }

        return recovered;
    }

    private async Task AgreeOnProtocolAsync(IDatabase db, int current, IEnumerable<int?> others)
    {
        if (QueueProtocol.Agreed(others) is not { } agreed || agreed == current)
        {
            return;
        }

        await QueueProtocol.WriteAsync(db, _keys, agreed);
        log?.LogInformation("Queue {Queue} protocol {From} -> {To}: the version every live worker speaks", options.QueueName, current, agreed);
    }

    private async Task MigrateAsync()
    {
        if (_migration.IsDone)
        {
            return;
        }

        try
        {
            await _migration.RunAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Recovery of the tagged layout must not wait on it: the next round tries again.
            log?.LogWarning("Moving the earlier key layout of queue {Queue} failed, tried again later: {Message}", options.QueueName, ex.Message);
        }
    }

    private async Task<Recovered?> RecoverWorkerAsync(IDatabase db, string deadWorker)
    {
        for (int tries = 0; tries < 5; tries++)
        {
            var entries = (await db.ListRangeAsync(_keys.InFlight(deadWorker))).Select(v => (string)v!).ToArray();
            var now = DateTimeOffset.UtcNow;
            var decisions = entries.Select(raw => Decide(raw, deadWorker, now)).ToArray();
            var args = new List<RedisValue> { deadWorker, entries.Length };
            foreach (var d in decisions)
            {
                args.Add(d.Original);
                args.Add(d.Requeue ? "q" : "d");
                args.Add(d.Payload);
            }

            long outcome = (long)await db.ScriptEvaluateAsync(QueueScripts.Recover,
                [_keys.Heartbeat(deadWorker), _keys.InFlight(deadWorker), _keys.Queue, _keys.DeadLetters, _keys.Workers, _keys.Stats],
                [.. args]);
            if (outcome is -1 or -2)
            {
                // Nothing was done: the spans of these decisions are dropped, not exported.
                foreach (var d in decisions)
                {
                    Discard(d.Span);
                }

                if (outcome == -1)
                {
                    return null; // it came back: its heartbeat is fresh again
                }

                continue; // its list changed under us (another recoverer, or it was still finishing): read again
            }

            await WriteStatusesAsync(db, decisions, now);
            int requeued = decisions.Count(d => d.Requeue), dead = decisions.Length - requeued;
            foreach (var d in decisions)
            {
                d.Span?.Dispose();
            }

            if (QueueTelemetry.TasksFailed.Enabled || QueueTelemetry.TasksRetried.Enabled || QueueTelemetry.TasksDeadLettered.Enabled)
            {
                // Every entry of a stopped worker is a failed attempt; each then goes round again or to the dead letters.
                var tags = QueueTelemetry.QueueTags(options.QueueName);
                QueueTelemetry.TasksFailed.Add(decisions.Length, tags);
                QueueTelemetry.TasksRetried.Add(requeued, tags);
                QueueTelemetry.TasksDeadLettered.Add(dead, tags);
            }

            return new Recovered(deadWorker, requeued, dead);
        }

        return null;
    }

    private Decision Decide(string raw, string deadWorker, DateTimeOffset now)
    {
        var entry = TaskEntry.Parse(raw, options);
        if (!entry.IsValid)
        {
            var bad = new DeadLetter(raw, entry.Error!, null, 1, deadWorker, now);
            return new Decision(raw, false, QueueJson.Serialize(bad), null, entry.Error!, null);
        }

        var task = entry.Task!;
        var span = StartRecover(task, deadWorker);
        if (task.Attempt >= options.MaxAttempts)
        {
            string reason = $"worker {deadWorker} stopped during attempt {task.Attempt} of {options.MaxAttempts}; no attempts left";
            var dead = new DeadLetter(raw, reason, task.Id, task.Attempt, deadWorker, now);
            span?.SetTag("piops.recovery.outcome", "dead-lettered");
            QueueTelemetry.Fail(span, "attempts_exhausted", reason);
            return new Decision(raw, false, QueueJson.Serialize(dead), task, reason, span);
        }

        // A plain entry comes back as an envelope: a bare number cannot carry its attempt count. It also carries the
        // recovery's trace from here on, so its next attempt joins the trace its first one started.
        var next = task with
        {
            Attempt = task.Attempt + 1,
            EnqueuedAt = task.EnqueuedAt ?? now,
            TraceParent = task.TraceParent ?? QueueTelemetry.TraceParent(span),
        };
        span?.SetTag("piops.recovery.outcome", "requeued");
        return new Decision(raw, true, QueueJson.Serialize(next), next, null, span);
    }

    /// <summary>The recovery of one task, in the task's trace (a plain entry, which has none, starts one here).</summary>
    private Activity? StartRecover(TaskEnvelope task, string deadWorker)
    {
        // Several of these are open at once, each in its own trace: none may become the ambient parent of the next.
        var ambient = Activity.Current;
        var span = QueueTelemetry.Source.StartActivity("recover " + options.QueueName, ActivityKind.Producer,
            QueueTelemetry.ParentOf(task.TraceParent));
        Activity.Current = ambient;
        if (span is not null)
        {
            span.SetTag("messaging.system", QueueTelemetry.MessagingSystem);
            span.SetTag("messaging.destination.name", options.QueueName);
            span.SetTag("messaging.message.id", task.Id);
            span.SetTag("piops.task.attempt", task.Attempt);
            span.SetTag("piops.worker.stopped", deadWorker);
            span.SetTag("piops.worker.recoverer", recoveredBy);
        }

        return span;
    }

    private static void Discard(Activity? span)
    {
        if (span is not null)
        {
            span.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            span.Dispose();
        }
    }

    private async Task WriteStatusesAsync(IDatabase db, Decision[] decisions, DateTimeOffset now)
    {
        var writes = new List<Task>();
        foreach (var d in decisions.Where(d => d.Task is not null))
        {
            var fields = d.Requeue
                ? TaskStatusRecord.Queued(d.Task!, now)
                : TaskStatusRecord.Dead(d.Reason!, d.Task!.Attempt, recoveredBy, now);
            var args = new List<RedisValue>(2 + fields.Length * 2) { (long)options.StatusTtl.TotalSeconds, d.Task!.Id };
            foreach (var e in fields)
            {
                args.Add(e.Name);
                args.Add(e.Value);
            }

            // After the recovery script, so a live worker may already have finished the requeued task: never undo that.
            writes.Add(db.ScriptEvaluateAsync(QueueScripts.SetStatusUnlessDone, _keys.StatusKeys(d.Task!.Id), [.. args]));
        }

        await Task.WhenAll(writes);
    }

    private sealed record Decision(string Original, bool Requeue, string Payload, TaskEnvelope? Task, string? Reason, Activity? Span);
}

/// <summary>What was done for one dead worker.</summary>
public sealed record Recovered(string WorkerId, int Requeued, int DeadLettered);
