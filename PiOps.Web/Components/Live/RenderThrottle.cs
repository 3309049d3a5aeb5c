namespace PiOps.Web.Components.Live;

/// <summary>
/// Coalesces render requests: at most one render per <paramref name="interval"/>; requests during the wait fold
/// into one trailing render, so the last state is always shown.
/// </summary>
public sealed class RenderThrottle(Func<Task> render, TimeSpan interval, TimeProvider time)
{
    private int _scheduled;
    private long _last = long.MinValue;

    public void Request()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 1)
        {
            return;
        }

        _ = RunAsync();
    }

    private async Task RunAsync()
    {
        try
        {
            if (_last != long.MinValue)
            {
                var wait = interval - time.GetElapsedTime(_last);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time);
                }
            }

            Volatile.Write(ref _scheduled, 0);
            _last = time.GetTimestamp();
            await render();
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away while a render was pending.
        }
    }
}
