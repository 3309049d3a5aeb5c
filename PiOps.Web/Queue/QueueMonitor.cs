using PiOps.Shared.Redis;
using System.Globalization;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Configuration;
using PiOps.Web.HighAvailability;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using StackExchange.Redis;

namespace PiOps.Web.Queue;

/// <summary>
/// The one background reader per server process: samples Redis a few times a second, listens to completions, and
/// recovers dead workers' tasks. Pages, the hub and the metrics all render from its snapshot, so the Redis load
/// does not grow with the number of viewers.
/// </summary>
public sealed class QueueMonitor(
    RedisConnection redis,
    IOptions<QueueOptions> queueOptions,
    IOptions<DashboardOptions> dashboardOptions,
    TimeProvider time,
    ILogger<QueueMonitor> log,
    Audit.AuditLog audit,
    DashboardLeases leases) : BackgroundService, IQueueState
{
    // Of several dashboard replicas, the one holding this lease recovers dead workers; workers recover on their own too.
    private readonly RedisLease _recoveryLease = leases.For(DashboardLeases.DeadWorkerRecovery);

    /// <summary>How often the server's run_id is read (INFO server), besides right after an outage.</summary>
    private static readonly TimeSpan RunIdInterval = TimeSpan.FromSeconds(2);

    private readonly RedisWatch _watch = new();
    private DateTimeOffset _lastRunId = DateTimeOffset.MinValue;
    private RedisNotice? _notice;
    private RedisTopology? _topology;

    private readonly QueueOptions _queue = queueOptions.Value;
    private readonly DashboardOptions _options = dashboardOptions.Value;
    private readonly QueueKeys _keys = new(queueOptions.Value.QueueName);
    private readonly Subscribers<QueueSnapshot> _snapshotSubscribers = new();
    // Every completion counts (the Tasks page and the hub list each one): room for a burst, the oldest dropped beyond it.
    private readonly Subscribers<TaskResult> _completionSubscribers = new(capacity: 1000);
    private readonly LinkedList<HistoryPoint> _history = new();
    private readonly Queue<(DateTimeOffset At, long Done, long Failed)> _rateWindow = new();
    private readonly Dictionary<string, WorkerView> _lost = new();
    private readonly Dictionary<string, DateTimeOffset> _headFirstSeen = new();
    private volatile QueueSnapshot _current = QueueSnapshot.Empty;
    private DateTimeOffset _lastHistory = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRecovery = DateTimeOffset.MinValue;

    public QueueSnapshot Current => _current;

    /// <summary>Called after each sample with the new snapshot (the newest only, when a handler is still busy). Dispose to stop.</summary>
    public IDisposable Subscribe(Func<QueueSnapshot, Task> onSnapshot) => _snapshotSubscribers.Add(onSnapshot);

    /// <summary>Called for each completed task, as published by the workers.</summary>
    public IDisposable SubscribeCompletions(Func<TaskResult, Task> onCompleted) => _completionSubscribers.Add(onCompleted);

    /// <summary>Takes a sample now instead of at the next tick, e.g. right after an action, so pages show its effect.</summary>
    /// Many pokes before the next sample are one: the semaphore holds at most one, and a second Release would throw.
    public void Poke()
    {
        try
        {
            _poke.Release();
        }
        catch (SemaphoreFullException)
        {
            // A poke is already pending; the next sample serves both.
        }
    }

    private readonly SemaphoreSlim _poke = new(0, 1);

    private int _watchers;

    // Set by the probe before it sleeps for want of watchers; the first watcher wakes it.
    private TaskCompletionSource? _watched;

    public IDisposable Watch()
    {
        Interlocked.Increment(ref _watchers);
        Volatile.Read(ref _watched)?.TrySetResult();
        return new Watcher(this);
    }

    private sealed class Watcher(QueueMonitor monitor) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref monitor._watchers);
            }
        }
    }

    /// <summary>The least time between two samples, however often they are asked for: a busy queue moves at every probe.</summary>
    private static readonly TimeSpan MinSampleSpacing = TimeSpan.FromMilliseconds(40);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SubscribeToCompletionsAsync();
        var probing = _options.ProbeInterval > TimeSpan.Zero ? ProbeAsync(stoppingToken) : Task.CompletedTask;
        long lastSample = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var spacing = lastSample == 0 ? TimeSpan.Zero : MinSampleSpacing - time.GetElapsedTime(lastSample);
                if (spacing > TimeSpan.Zero)
                {
                    await Task.Delay(spacing, time, stoppingToken);
                }

                lastSample = time.GetTimestamp();
                var snapshot = await SampleAsync();
                _current = snapshot;
                _snapshotSubscribers.Publish(snapshot, log);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A sample that fails for any other reason must not stop the dashboard: log it and sample again.
                log.LogError(ex, "Queue sample failed; the next sample follows in {Interval}", _options.SampleInterval);
            }

            try
            {
                await _poke.WaitAsync(_options.SampleInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await probing;
    }

    /// <summary>What the probe reads: a change in any of it is worth a sample now.</summary>
    private readonly record struct ProbeReading(long Depth, long DeadLetters, long Workers, RedisValue Done, RedisValue Failed);

    /// <summary>How long the probe polls before key tracking is tried again after it could not be set up for now.</summary>
    private static readonly TimeSpan TrackingRetry = TimeSpan.FromSeconds(5);

    private KeyChangeTracker? _tracker;
    private DateTimeOffset _trackerFailedAt = DateTimeOffset.MinValue;
    private bool _toldSaid;

    /// <summary>
    /// Finds out, while someone watches, whether the queue moved between samples (the lengths of the queue and the dead
    /// letters, the registry's size, the done and failed totals), and pokes the sampler when it did, so a push by any
    /// producer, the book's too, reaches the pages in tens of milliseconds; the full sample stays at
    /// <see cref="DashboardOptions.SampleInterval"/> otherwise. Where the server offers it, Redis says when those keys
    /// change (<see cref="KeyChangeTracker"/>) and an idle queue costs nothing; elsewhere (Garnet, a cluster) they are
    /// read every <see cref="DashboardOptions.ProbeInterval"/>. With nobody watching, not even a timer runs (on a small
    /// VM the wake-ups cost more than the commands, bench/README.md, page-cost). Failures are the sampler's to report.
    /// </summary>
    private async Task ProbeAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await UntilWatchedAsync(stop);
                if (await TrackerAsync() is { } tracker)
                {
                    if (await FollowAsync(tracker, stop))
                    {
                        continue;
                    }

                    _trackerFailedAt = time.GetUtcNow();
                }

                await PollAsync(stop, TrackingRetry);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (_tracker is not null)
            {
                await _tracker.DisposeAsync();
            }
        }
    }

    /// <summary>The key tracker, connected on first use; null while it cannot be had (refused, or Redis away: tried again later).</summary>
    private async Task<KeyChangeTracker?> TrackerAsync()
    {
        if (_tracker?.Refusal is not null || time.GetUtcNow() - _trackerFailedAt < TrackingRetry)
        {
            return null;
        }

        try
        {
            _tracker ??= await KeyChangeTracker.ConnectAsync(redis.Settings, redis.Multiplexer, _keys.Prefix + ":tracking-proof:");
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            _trackerFailedAt = time.GetUtcNow();
            return null;
        }

        if (await _tracker.EnsureOnAsync())
        {
            if (!_toldSaid)
            {
                _toldSaid = true;
                log.LogInformation("Queue changes: Redis tells of them (CLIENT TRACKING); no reads between samples while nothing moves");
            }

            return _tracker;
        }

        if (_tracker.Refusal is { } why)
        {
            log.LogInformation("Queue changes: {Server} does not report them (key tracking: {Reason}), so they are read every {Interval} ms while a page is open",
                redis.IsEmbedded ? "the embedded Garnet" : redis.Endpoint, why.TrimEnd('.'), _options.ProbeInterval.TotalMilliseconds);
            await _tracker.DisposeAsync();
        }
        else
        {
            _trackerFailedAt = time.GetUtcNow();
        }

        return null;
    }

    /// <summary>
    /// While someone watches: reads the probed keys through the tracker (which has Redis remember them), pokes the sampler
    /// when they differ from the last reading, and waits to be told of the next change; at most one reading a
    /// <see cref="DashboardOptions.ProbeInterval"/>, so a busy queue costs what the probe did. False when tracking is
    /// lost and cannot be set up again now.
    /// </summary>
    private async Task<bool> FollowAsync(KeyChangeTracker tracker, CancellationToken stop)
    {
        ProbeReading? last = null;
        while (Volatile.Read(ref _watchers) > 0)
        {
            var changed = tracker.NextChange();
            if (!await tracker.EnsureOnAsync())
            {
                return false;
            }

            try
            {
                last = PokeIfMoved(last, await ReadProbeAsync(tracker.Database));
            }
            catch (Exception ex) when (RedisFailure.Is(ex))
            {
                return false;
            }

            await changed.WaitAsync(stop);
            Poke();
            await Task.Delay(_options.ProbeInterval, time, stop);
        }

        return true;
    }

    /// <summary>Reads the probed keys every <see cref="DashboardOptions.ProbeInterval"/> while someone watches, for at most <paramref name="span"/>.</summary>
    private async Task PollAsync(CancellationToken stop, TimeSpan span)
    {
        using var timer = new PeriodicTimer(_options.ProbeInterval, time);
        long started = time.GetTimestamp();
        ProbeReading? last = null;
        while (Volatile.Read(ref _watchers) > 0 && (_tracker?.Refusal is not null || time.GetElapsedTime(started) < span)
               && await timer.WaitForNextTickAsync(stop))
        {
            try
            {
                last = PokeIfMoved(last, await ReadProbeAsync(redis.Multiplexer.GetDatabase()));
            }
            catch (Exception ex) when (RedisFailure.Is(ex))
            {
                // Redis away: the sampler says so on every page; probe again at the next tick.
                last = null;
            }
        }
    }

    /// <summary>Takes a sample now when <paramref name="now"/> differs from the reading before it; returns it as the last.</summary>
    private ProbeReading PokeIfMoved(ProbeReading? last, ProbeReading now)
    {
        if (last is { } before && before != now)
        {
            Poke();
        }

        return now;
    }

    private async Task<ProbeReading> ReadProbeAsync(IDatabase db)
    {
        var depth = db.ListLengthAsync(_keys.Queue);
        var dead = db.ListLengthAsync(_keys.DeadLetters);
        var workers = db.SetLengthAsync(_keys.Workers);
        var totals = db.HashGetAsync(_keys.Stats, ProbedTotals);
        await Task.WhenAll(depth, dead, workers, totals);
        return new ProbeReading(depth.Result, dead.Result, workers.Result, totals.Result[0], totals.Result[1]);
    }

    /// <summary>Returns once someone watches: at once if someone does, else when <see cref="Watch"/> is first called.</summary>
    private async Task UntilWatchedAsync(CancellationToken stop)
    {
        while (Volatile.Read(ref _watchers) == 0)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // A full fence between publishing the signal and reading the count again: a Watch() in between either
            // is seen here or finds the signal.
            Interlocked.Exchange(ref _watched, signal);
            if (Volatile.Read(ref _watchers) == 0)
            {
                await signal.Task.WaitAsync(stop);
            }
        }
    }

    private static readonly RedisValue[] ProbedTotals = ["done", "failed"];

    private async Task SubscribeToCompletionsAsync()
    {
        try
        {
            await redis.Multiplexer.GetSubscriber().SubscribeAsync(_keys.Completions, (channel, message) =>
            {
                if (message.IsNullOrEmpty)
                {
                    return;
                }

                TaskResult? result;
                try
                {
                    result = QueueJson.Deserialize<TaskResult>(message!);
                }
                catch (System.Text.Json.JsonException)
                {
                    return;
                }

                if (result is null)
                {
                    return;
                }

                _completionSubscribers.Publish(result, log);
            });
        }
        catch (RedisException ex)
        {
            // The multiplexer re-subscribes by itself once Redis is back.
            log.LogWarning("Could not subscribe to completions yet: {Message}", ex.Message);
        }
    }

    private async Task<QueueSnapshot> SampleAsync()
    {
        var now = time.GetUtcNow();
        try
        {
            var db = redis.Multiplexer.GetDatabase();
            var depthTask = db.ListLengthAsync(_keys.Queue);
            var deadTask = db.ListLengthAsync(_keys.DeadLetters);
            var statsTask = db.HashGetAllAsync(_keys.Stats);
            var pausedTask = db.KeyExistsAsync(_keys.Paused);
            var headTask = db.ListRangeAsync(_keys.Queue, 0, QueueSnapshot.HeadSize - 1);
            var tailTask = db.ListRangeAsync(_keys.Queue, -QueueSnapshot.HeadSize, -1);
            var membersTask = db.SetMembersAsync(_keys.Workers);
            await Task.WhenAll(depthTask, deadTask, statsTask, pausedTask, headTask, tailTask, membersTask);

            var ids = membersTask.Result.Select(v => (string)v!).Order(StringComparer.Ordinal).ToArray();
            var beatsTask = ids.Length == 0 ? Task.FromResult(Array.Empty<RedisValue>())
                : db.StringGetAsync(ids.Select(id => (RedisKey)_keys.Heartbeat(id)).ToArray());
            var inFlightTasks = ids.Select(id => db.ListLengthAsync(_keys.InFlight(id))).ToArray();
            await Task.WhenAll(inFlightTasks.Cast<Task>().Append(beatsTask));

            var totals = ReadTotals(statsTask.Result);
            await WatchServerAsync(db, now, totals, depthTask.Result);
            var workers = ReadWorkers(ids, beatsTask.Result, now);
            if (now - _lastRecovery >= _options.RecoveryInterval && workers.Any(w => w.Lost) && _recoveryLease.IsHeld)
            {
                _lastRecovery = now;
                await RecoverAsync(workers.Where(w => w.Lost).ToList(), now);
            }

            var (done, failed) = Rates(now, totals);
            var snapshot = new QueueSnapshot(now, true, null, depthTask.Result, inFlightTasks.Sum(t => t.Result),
                deadTask.Result, totals, done, failed, OldestAge(headTask.Result.FirstOrDefault(), now), pausedTask.Result,
                MergeLost(workers, now), AddHistory(now, depthTask.Result, done, failed, inFlightTasks.Sum(t => t.Result)),
                SameOrNew(_current.Head, headTask.Result), SameOrNew(_current.Tail ?? [], tailTask.Result))
            {
                Notice = _notice,
                Topology = _topology,
                Duties = Duties(),
            };
            return snapshot;
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            var last = _current;
            if (last.RedisAvailable || last.At == DateTimeOffset.MinValue)
            {
                log.LogWarning("Redis at {Endpoint} is not answering: {Message}", redis.Endpoint, FirstLine(ex.Message));
            }

            // Read the run id again as soon as Redis answers: the outage may have been a restart.
            _lastRunId = DateTimeOffset.MinValue;
            return last with
            {
                Duties = Duties(),
                At = now,
                RedisAvailable = false,
                RedisError = RedisWatch.Outage(redis.Endpoint, ex),
            };
        }
    }

    /// <summary>
    /// Notices a restart of Redis (its run_id changed) and a loss of the queue's data (counters went backwards), and says
    /// so on the Overview (the snapshot's notice) and in the audit trail.
    /// </summary>
    private async Task WatchServerAsync(IDatabase db, DateTimeOffset now, QueueTotals totals, long depth)
    {
        RedisServerInfo? info = null;
        string? endpoint = null;
        if (now - _lastRunId >= RunIdInterval)
        {
            _lastRunId = now;
            var server = db.ExecuteAsync("INFO", "server");
            var replication = db.ExecuteAsync("INFO", "replication");
            var answered = db.IdentifyEndpointAsync();
            string text = "";
            foreach (var section in new[] { server, replication })
            {
                try
                {
                    text += (string?)await section + "\n";
                }
                catch (RedisServerException ex)
                {
                    // A server that refuses INFO or a section of it (a managed Redis may) still gets the counters' check.
                    log.LogDebug("INFO refused: {Message}", ex.Message);
                }
            }

            info = RedisServerInfo.Parse(text);
            endpoint = await answered is { } ep ? EndPointCollection.ToString(ep) : null;
            UpdateTopology(info, endpoint);
        }

        var notice = _watch.Observe(now, info, endpoint, totals, depth);
        if (notice is null)
        {
            return;
        }

        _notice = notice;
        if (notice.FailedOver && _topology is { } topology)
        {
            _topology = topology with { LastFailover = notice };
        }

        if (notice.DataLost)
        {
            log.LogError("{Notice}", notice.Message);
        }
        else
        {
            log.LogWarning("{Notice}", notice.Message);
        }

        await audit.WriteAsync(new Audit.AuditEntry(now, "dashboard", "system", "-", "monitor",
            notice.DataLost ? "redis data lost" : notice.FailedOver ? "redis failed over" : "redis restarted", endpoint ?? redis.Endpoint, "", !notice.DataLost,
            notice.DataLost ? notice.Message : null));
    }

    /// <summary>
    /// The primary and its replicas, as the primary tells them; kept as the same object while its description does not
    /// change, so pages that compare snapshots render nothing new.
    /// </summary>
    private void UpdateTopology(RedisServerInfo info, string? endpoint)
    {
        if (info.Role != "master" || endpoint is null)
        {
            return;
        }

        var next = new RedisTopology(endpoint, info.Replicas, _topology?.LastFailover);
        if (_topology is null || next.Describe() != _topology.Describe())
        {
            _topology = next;
        }
    }

    // Keeps the previous list when the head (or tail) did not change, so comparisons stay cheap.
    private static IReadOnlyList<string> SameOrNew(IReadOnlyList<string> previous, RedisValue[] head)
    {
        if (previous.Count == head.Length && head.Select((v, i) => previous[i] == (string?)v).All(x => x))
        {
            return previous;
        }

        return head.Select(v => (string)v!).ToArray();
    }

    private static QueueTotals ReadTotals(HashEntry[] stats)
    {
        long Get(string name) => stats.FirstOrDefault(e => e.Name == name).Value is { IsNull: false } v && long.TryParse(v.ToString(),
            NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : 0;
        return new QueueTotals(Get("enqueued"), Get("done"), Get("failed"), Get("recovered"), Get("fenced"));
    }

    private List<WorkerView> ReadWorkers(string[] ids, RedisValue[] beats, DateTimeOffset now)
    {
        var workers = new List<WorkerView>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            var beat = WorkerHeartbeat.Read(beats[i]);
            workers.Add(beat is null
                ? _lost.TryGetValue(ids[i], out var known) ? known : new WorkerView(ids[i], "", 0, "lost", null, 0, 0, now, now, true,
                    "stopped beating; its tasks are being recovered")
                : new WorkerView(beat.Id, beat.Host, beat.Pid, beat.State, beat.CurrentTask, beat.Processed, beat.Failed,
                    beat.StartedAt, beat.LastSeen, false, null, beat.Speaks));
        }

        // Remember what live workers looked like, so a lost one is shown with its last known details.
        foreach (var w in workers.Where(w => !w.Lost))
        {
            _lastKnown[w.Id] = w;
        }

        return workers;
    }

    private readonly Dictionary<string, WorkerView> _lastKnown = new();

    private DeadWorkerRecovery? _recovery;

    private async Task RecoverAsync(List<WorkerView> lost, DateTimeOffset now)
    {
        try
        {
            _recovery ??= new DeadWorkerRecovery(redis.Multiplexer, _queue, "dashboard", log);
            var recovered = await _recovery.RecoverAsync();
            foreach (var r in recovered)
            {
                var seen = _lastKnown.GetValueOrDefault(r.WorkerId) ?? lost.FirstOrDefault(w => w.Id == r.WorkerId);
                string note = $"stopped beating; {r.Requeued} task(s) put back on the queue, {r.DeadLettered} dead-lettered";
                _lost[r.WorkerId] = (seen ?? new WorkerView(r.WorkerId, "", 0, "lost", null, 0, 0, now, now, true, note)) with
                {
                    State = "lost", Lost = true, LostNote = note, CurrentTask = null,
                };
                _lastKnown.Remove(r.WorkerId);
                if (r.Requeued + r.DeadLettered > 0)
                {
                    log.LogWarning("Worker {Worker} stopped beating: {Requeued} task(s) requeued, {Dead} dead-lettered",
                        r.WorkerId, r.Requeued, r.DeadLettered);
                }
            }
        }
        catch (RedisException ex)
        {
            log.LogWarning("Recovery of dead workers failed: {Message}", ex.Message);
        }
    }

    private List<WorkerView> MergeLost(List<WorkerView> workers, DateTimeOffset now)
    {
        foreach (var id in _lost.Where(kv => now - kv.Value.LastSeen > _options.LostWorkerRetention).Select(kv => kv.Key).ToList())
        {
            _lost.Remove(id);
        }

        var present = workers.Select(w => w.Id).ToHashSet();
        return [.. workers, .. _lost.Values.Where(w => !present.Contains(w.Id)).OrderBy(w => w.Id, StringComparer.Ordinal)];
    }

    private (double Done, double Failed) Rates(DateTimeOffset now, QueueTotals totals)
    {
        _rateWindow.Enqueue((now, totals.Done, totals.Failed));
        while (_rateWindow.Count > 2 && now - _rateWindow.Peek().At > TimeSpan.FromSeconds(5))
        {
            _rateWindow.Dequeue();
        }

        var first = _rateWindow.Peek();
        double seconds = (now - first.At).TotalSeconds;
        if (seconds < 0.2)
        {
            return (0, 0);
        }

        return (Math.Max(0, totals.Done - first.Done) / seconds, Math.Max(0, totals.Failed - first.Failed) / seconds);
    }

    private TimeSpan? OldestAge(RedisValue head, DateTimeOffset now)
    {
        if (head.IsNullOrEmpty)
        {
            _headFirstSeen.Clear();
            return null;
        }

        string raw = head!;
        if (raw.Length < 4096 && raw.TrimStart().StartsWith('{'))
        {
            var entry = TaskEntry.Parse(raw, _queue);
            if (entry.Task?.EnqueuedAt is { } at)
            {
                return now - at > TimeSpan.Zero ? now - at : TimeSpan.Zero;
            }
        }

        // A plain entry carries no time: count from when this process first saw it at the head.
        if (!_headFirstSeen.TryGetValue(raw, out var first))
        {
            _headFirstSeen.Clear();
            _headFirstSeen[raw] = first = now;
        }

        return now - first;
    }

    private IReadOnlyList<HistoryPoint> AddHistory(DateTimeOffset now, long depth, double done, double failed, long inFlight)
    {
        if (now - _lastHistory >= TimeSpan.FromSeconds(1))
        {
            _lastHistory = now;
            _history.AddLast(new HistoryPoint(now, depth, done, failed, inFlight));
            while (_history.Count > 0 && now - _history.First!.Value.At > _options.History)
            {
                _history.RemoveFirst();
            }

            return [.. _history];
        }

        return _current.History;
    }

    private List<DutyHolder> Duties() =>
        leases.All.Select(l => new DutyHolder(DashboardLeases.Describe(l.Duty), l.HeldBy, l.IsHeld)).ToList();

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
