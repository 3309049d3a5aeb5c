namespace PiOps.Web.Components.Live;

/// <summary>What a live view needs of its component: the render thread (<c>InvokeAsync</c>) and a render (<c>StateHasChanged</c>).</summary>
public readonly record struct LiveHost(Func<Func<Task>, Task> Dispatch, Action Render);

/// <summary>Where a live view reads from: the value now, and a subscription to the values published from now on.</summary>
public readonly record struct LiveSource<T>(Func<T> Current, Func<Func<T, Task>, IDisposable> Subscribe);

/// <summary>
/// Binds one component to one live source, by composition rather than a base class: it subscribes, folds a burst of
/// values into at most one render per interval (the newest value wins), skips a value that shows nothing new, can
/// render on a clock for pages whose ages advance, owns its cancellation, and once disposed asynchronously lets nothing
/// more reach the component. The component keeps <see cref="Value"/> and renders it; it subscribes to nothing itself.
/// </summary>
public sealed class LiveView<T> : IAsyncDisposable where T : class
{
    private readonly LiveHost _host;
    private readonly Func<T, T, bool> _same;
    private readonly Action<T>? _changed;
    private readonly RenderThrottle _throttle;
    private readonly CancellationTokenSource _stop = new();
    private readonly IDisposable _subscription;
    private readonly Task _ticks = Task.CompletedTask;
    private T? _pending;
    private volatile bool _disposed;

    /// <param name="same">True when the second value shows nothing the first does not: no render for it.</param>
    /// <param name="changed">Runs on the render thread with a new value, before its render.</param>
    /// <param name="tick">When given, every <paramref name="tickEvery"/> the value it returns is rendered (null: skip).</param>
    public LiveView(LiveSource<T> source, Func<T, T, bool> same, TimeSpan interval, TimeProvider time, LiveHost host,
        Action<T>? changed = null, Func<T, T?>? tick = null, TimeSpan tickEvery = default)
    {
        _host = host;
        _same = same;
        _changed = changed;
        Value = source.Current();
        _throttle = new RenderThrottle(ApplyAsync, interval, time);
        _subscription = source.Subscribe(Offer);
        if (tick is not null)
        {
            _ticks = TickAsync(tick, tickEvery, time, _stop.Token);
        }
    }

    /// <summary>The value the component renders; changed on the render thread only.</summary>
    public T Value { get; private set; }

    private Task Offer(T next)
    {
        // A value like the one already waiting (or shown) is not worth a render request.
        if (!_disposed && !_same(Volatile.Read(ref _pending) ?? Value, next))
        {
            Volatile.Write(ref _pending, next);
            _throttle.Request();
        }

        return Task.CompletedTask;
    }

    private Task ApplyAsync() => _disposed ? Task.CompletedTask : _host.Dispatch(() =>
    {
        if (_disposed || Interlocked.Exchange(ref _pending, null) is not { } next || _same(Value, next))
        {
            return Task.CompletedTask;
        }

        Value = next;
        _changed?.Invoke(next);
        _host.Render();
        return Task.CompletedTask;
    });

    private async Task TickAsync(Func<T, T?> tick, TimeSpan every, TimeProvider time, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(every, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await _host.Dispatch(() =>
                {
                    if (!_disposed && tick(Value) is { } ticked)
                    {
                        Value = ticked;
                        _host.Render();
                    }

                    return Task.CompletedTask;
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went between the tick and the render.
        }
    }

    /// <summary>Unsubscribes and stops the clock; returns when the clock's loop has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _subscription.Dispose();
        await _stop.CancelAsync();
        await _ticks;
        _stop.Dispose();
    }
}
