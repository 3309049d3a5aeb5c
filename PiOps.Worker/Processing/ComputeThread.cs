using System.Collections.Concurrent;

namespace PiOps.Worker.Processing;

/// <summary>
/// The one thread a worker's long tasks run on, so the loop's pool thread stays free for the heartbeat and Redis while
/// pi is computed. It lives as long as the worker: a thread made per task (Task.Factory.StartNew with LongRunning) cost
/// its creation and teardown on every task of the book's sizes. The loop runs one task at a time, so one thread is
/// enough; a second item would wait its turn. No ExecutionContext flows to it: nothing on it starts a span or reads one.
/// </summary>
public sealed class ComputeThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public ComputeThread()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "pi compute" };
        _thread.UnsafeStart();
    }

    /// <summary>Runs <paramref name="compute"/> on the thread; its result, its exception or its cancellation comes back.</summary>
    public Task<T> RunAsync<T>(Func<T> compute)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(compute());
            }
            catch (OperationCanceledException ex)
            {
                done.SetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task;
    }

    /// <summary>Lets the thread end once the item it runs (if any) is done.</summary>
    public void Dispose() => _work.CompleteAdding();

    private void Run()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }
    }
}
