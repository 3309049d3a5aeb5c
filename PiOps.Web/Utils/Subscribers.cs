using System.Threading.Channels;

namespace PiOps.Web.Utils;

/// <summary>
/// A thread-safe set of async callbacks. Each subscriber has its own bounded channel drained by its own loop, so
/// <see cref="Publish"/> never waits for a handler: a slow or failing subscriber never delays the publisher (the
/// sampler) or the other subscribers. A full channel drops its oldest value; with the default capacity of 1 a
/// subscriber that falls behind gets the newest value only, which is what a snapshot needs.
/// </summary>
public sealed class Subscribers<T>(int capacity = 1)
{
    private readonly object _gate = new();
    private Subscription[] _subscriptions = [];

    /// <summary>How many are subscribed now: a page that closed must leave none behind.</summary>
    public int Count => _subscriptions.Length;

    /// <summary>Calls <paramref name="handler"/> with each value published from now on, one call at a time. Dispose to stop.</summary>
    public IDisposable Add(Func<T, Task> handler)
    {
        var subscription = new Subscription(this, handler, capacity);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    /// <summary>Hands <paramref name="value"/> to every subscriber's channel and returns at once.</summary>
    public void Publish(T value, ILogger log)
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Offer(value, log);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
        }
    }

    private sealed class Subscription : IDisposable
    {
        private readonly Subscribers<T> _owner;
        private readonly Func<T, Task> _handler;
        private readonly Channel<T> _channel;
        private volatile ILogger? _log;
        private volatile bool _disposed;

        public Subscription(Subscribers<T> owner, Func<T, Task> handler, int capacity)
        {
            _owner = owner;
            _handler = handler;
            _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
            });
            _ = Task.Run(PumpAsync);
        }

        public void Offer(T value, ILogger log)
        {
            _log = log;
            _channel.Writer.TryWrite(value);
        }

        private async Task PumpAsync()
        {
            var reader = _channel.Reader;
            while (await reader.WaitToReadAsync())
            {
                while (!_disposed && reader.TryRead(out var value))
                {
                    try
                    {
                        await _handler(value);
                    }
                    catch (Exception ex)
                    {
                        _log?.LogWarning(ex, "A subscriber failed");
                    }
                }
            }
        }

        // Nothing is delivered after this returns, except a call already running.
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _owner.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
