namespace PiOps.Web.Utils;

/// <summary>A thread-safe list of async callbacks; one failing or slow subscriber never stops the others.</summary>
public sealed class Subscribers<T>
{
    private readonly object _gate = new();
    private Func<T, Task>[] _handlers = [];

    /// <summary>How many are subscribed now: a page that closed must leave none behind.</summary>
    public int Count => _handlers.Length;

    public IDisposable Add(Func<T, Task> handler)
    {
        lock (_gate)
        {
            _handlers = [.. _handlers, handler];
        }

        return new Unsubscriber(() =>
        {
            lock (_gate)
            {
                _handlers = _handlers.Where(h => h != handler).ToArray();
            }
        });
    }

    public async Task NotifyAsync(T value, ILogger log)
    {
        foreach (var handler in _handlers)
        {
            try
            {
                await handler(value);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "A subscriber failed");
            }
        }
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
