using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Tests.Resilience;

/// <summary>
/// A fixed number of real worker processes on one queue, as a Deployment keeps them: a killed one is replaced at once.
/// Remembers every process it started, so a run can tell a worker that exited by itself from one it killed.
/// </summary>
public sealed class WorkerPool(TestRedisServer server, string queue, int size, params (string Key, string Value)[] env) : IAsyncDisposable
{
    private readonly List<WorkerProcess> _running = [];
    private readonly List<WorkerProcess> _killed = [];
    private readonly List<WorkerProcess> _exitedByThemselves = [];

    public IReadOnlyList<WorkerProcess> Running => _running;

    /// <summary>Workers as deployed, for measurements (<see cref="WorkerProcess.StartLoggingToFiles"/>).</summary>
    public bool AsDeployed { get; init; }

    public int Kills => _killed.Count;

    /// <summary>Workers that exited without being killed: a worker must never do that mid-run.</summary>
    public IReadOnlyList<WorkerProcess> ExitedByThemselves => _exitedByThemselves;

    /// <summary>
    /// Starts the workers, on the protocol they agree on: a pool is of one build, so the queue starts on its version
    /// (<see cref="QueueProtocol"/>) rather than on the workers' first recovery round, which kills could put off.
    /// </summary>
    public WorkerPool Start()
    {
        QueueProtocol.WriteAsync(server.Db, new QueueKeys(queue), QueueProtocol.Current).GetAwaiter().GetResult();
        while (_running.Count < size)
        {
            _running.Add(StartOne());
        }

        return this;
    }

    private WorkerProcess StartOne() => AsDeployed
        ? WorkerProcess.StartLoggingToFiles(WorkerProcess.Env(server, queue, env))
        : WorkerProcess.Start(WorkerProcess.Env(server, queue, env));

    /// <summary>Waits until <paramref name="count"/> workers have a live heartbeat on the queue.</summary>
    public Task WaitForHeartbeatsAsync(int count, TimeSpan timeout)
    {
        var keys = new QueueKeys(queue);
        return Eventually.WaitAsync(async () =>
        {
            var db = server.Db;
            var ids = await db.SetMembersAsync(keys.Workers);
            var alive = await Task.WhenAll(ids.Select(id => db.KeyExistsAsync(keys.Heartbeat((string)id!))));
            return alive.Count(a => a) >= count;
        }, timeout, $"{count} workers beating on {queue}");
    }

    /// <summary>
    /// SIGKILL to one worker chosen by <paramref name="random"/> among those that are up (connected and registered),
    /// then a new one in its place. Returns false when every worker is still starting: killing a process before it has
    /// taken anything tests nothing, and on a busy machine start-up alone could outlast the kill interval.
    /// </summary>
    public async Task<bool> KillOneAndReplaceAsync(Random random)
    {
        var up = Enumerable.Range(0, _running.Count)
            .Where(j => _running[j].HasExited || _running[j].Lines.Any(l => l.StartsWith("starting", StringComparison.Ordinal)))
            .ToList();
        if (up.Count == 0)
        {
            return false;
        }

        int i = up[random.Next(up.Count)];
        var victim = _running[i];
        if (victim.HasExited)
        {
            _exitedByThemselves.Add(victim);
        }
        else
        {
            victim.KillHard();
            await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
            _killed.Add(victim);
        }

        _running[i] = StartOne();
        return true;
    }

    /// <summary>Notes any worker that exited by itself and starts one in its place.</summary>
    public void ReplaceExited()
    {
        for (int i = 0; i < _running.Count; i++)
        {
            if (_running[i].HasExited)
            {
                _exitedByThemselves.Add(_running[i]);
                _running[i] = StartOne();
            }
        }
    }

    /// <summary>SIGTERM to every running worker, and waits for them to leave cleanly.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        foreach (var w in _running.Where(w => !w.HasExited))
        {
            try
            {
                w.Terminate();
            }
            catch (InvalidOperationException)
            {
                // It exited in between: WaitForExitAsync below returns at once.
            }
        }

        foreach (var w in _running)
        {
            await w.WaitForExitAsync(timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _running.Concat(_killed).Concat(_exitedByThemselves))
        {
            await w.DisposeAsync();
        }
    }
}
