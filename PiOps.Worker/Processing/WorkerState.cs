using PiOps.Shared.Queue;

namespace PiOps.Worker.Processing;

/// <summary>What this worker is doing right now: written by the task loop, read by the heartbeat.</summary>
public sealed class WorkerState(string id, string host, TimeProvider time)
{
    private long _processed;
    private long _failed;
    private long _done;
    private volatile CurrentTask? _current;
    private volatile string _phase = "starting";
    private int _held;
    private double _rate;

    public string Id { get; } = id;

    public string Host { get; } = host;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public long Processed => Interlocked.Read(ref _processed);

    public long Failed => Interlocked.Read(ref _failed);

    public string Phase { get => _phase; set => _phase = value; }

    /// <summary>Entries in this worker's in-flight list after its last round trip.</summary>
    public int Held { get => Volatile.Read(ref _held); set => Volatile.Write(ref _held, value); }

    /// <summary>Leibniz terms per second of the last task that ran for at least a millisecond.</summary>
    public double IterationsPerSecond => Volatile.Read(ref _rate);

    public void Computed(long iterations, TimeSpan elapsed)
    {
        if (elapsed >= TimeSpan.FromMilliseconds(1))
        {
            Volatile.Write(ref _rate, iterations / elapsed.TotalSeconds);
        }
    }

    public void Started(TaskEnvelope task)
    {
        Interlocked.Exchange(ref _done, 0);
        _current = new CurrentTask(task.Id, task.Iterations, time.GetUtcNow(), 0);
        _phase = "busy";
    }

    public void Progress(long done) => Interlocked.Exchange(ref _done, done);

    public void Finished(bool succeeded)
    {
        Interlocked.Increment(ref succeeded ? ref _processed : ref _failed);
        _current = null;
        _phase = "idle";
    }

    public void Abandoned()
    {
        _current = null;
    }

    public void CountFailure() => Interlocked.Increment(ref _failed);

    public WorkerHeartbeat Snapshot() => new(
        Id, Host, Environment.ProcessId, StartedAt, time.GetUtcNow(),
        _current is { } c ? c with { Done = Interlocked.Read(ref _done) } : null,
        Processed, Failed, _phase, QueueProtocol.Current);
}
