namespace PiOps.Tests.Infrastructure;

/// <summary>Bounded waits: poll a condition until it holds or the time is up, then fail with a message.</summary>
public static class Eventually
{
    /// <param name="maxDelayMs">The longest pause between polls; a benchmark's clock needs a short one.</param>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int maxDelayMs = 200)
    {
        var deadline = DateTime.UtcNow + timeout;
        int delay = Math.Min(10, maxDelayMs);
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for: {what}");
            }

            await Task.Delay(delay);
            delay = Math.Min(maxDelayMs, delay * 2);
        }
    }

    /// <summary>
    /// The opposite of a wait: <paramref name="condition"/> must stay true for all of <paramref name="during"/>, checked
    /// every few milliseconds, and the check fails the moment it turns false (nothing that should not happen, happens).
    /// </summary>
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan during, string what)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            if (!condition())
            {
                throw new Xunit.Sdk.XunitException($"After {clock.ElapsedMilliseconds} ms, no longer true: {what}");
            }
        }
        while (clock.Elapsed < during && await timer.WaitForNextTickAsync());
    }

    public static Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>As above, with a message made when the wait fails, so it can describe the state at that moment.</summary>
    public static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        try
        {
            await WaitAsync(condition, timeout, "");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for: {describe()}");
        }
    }

    /// <summary>As above, for an asynchronous condition.</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        try
        {
            await WaitAsync(condition, timeout, "");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for: {describe()}");
        }
    }

    /// <summary>
    /// Whether <paramref name="task"/> ends within <paramref name="timeout"/>, for a condition that retries an action
    /// until its effect arrives; a fault of the task is thrown, as awaiting it would.
    /// </summary>
    public static async Task<bool> EndsWithinAsync(this Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
        }

        return task.IsCompleted;
    }

    /// <summary>Awaits a task, failing with <paramref name="what"/> if it takes longer than <paramref name="timeout"/>.</summary>
    public static async Task<T> Within<T>(this Task<T> task, TimeSpan timeout, string what)
    {
        await ((Task)task).Within(timeout, () => what);
        return await task;
    }

    /// <inheritdoc cref="Within{T}(Task{T}, TimeSpan, string)"/>
    public static async Task Within(this Task task, TimeSpan timeout, Func<string> what)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s: {what()}");
        }
    }
}
