using System.Net;
using k8s.Autorest;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// The back-off client-go's reflector puts between failed lists and watches (tools/cache/reflector.go: an exponential
/// back-off manager of 800 ms doubling to a 30 s cap, jitter 1.0, reset after two quiet minutes): each delay is the
/// current step plus up to as much again at random, at most 30 s, so many dashboards that fail together do not retry
/// together. A Retry-After the server sent (API priority and fairness' 429) is waited at least.
/// </summary>
public sealed class ReflectorBackoff(TimeProvider? time = null)
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(800);
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ResetAfter = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private TimeSpan _step = Initial;
    private DateTimeOffset _lastFailure = DateTimeOffset.MinValue;

    /// <summary>The delay before the next attempt after <paramref name="failure"/>; each call moves the back-off on.</summary>
    public TimeSpan Next(Exception? failure = null)
    {
        TimeSpan delay;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (now - _lastFailure > ResetAfter)
            {
                _step = Initial;
            }

            _lastFailure = now;
            delay = _step + TimeSpan.FromTicks((long)(_step.Ticks * Random.Shared.NextDouble()));
            _step = TimeSpan.FromTicks(Math.Min(Cap.Ticks, _step.Ticks * 2));
            if (delay > Cap)
            {
                delay = Cap;
            }
        }

        return RetryAfter(failure) is { } asked && asked > delay ? asked : delay;
    }

    /// <summary>Starts again from the first step: what was failing works now.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _step = Initial;
            _lastFailure = DateTimeOffset.MinValue;
        }
    }

    /// <summary>The Retry-After (seconds) of a 429 or 503 answer, at most the cap.</summary>
    public static TimeSpan? RetryAfter(Exception? failure)
    {
        if (failure is not HttpOperationException { Response: { } response }
            || response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || response.Headers is null)
        {
            return null;
        }

        foreach (var (name, values) in response.Headers)
        {
            if (string.Equals(name, "Retry-After", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int seconds))
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, Cap.TotalSeconds));
            }
        }

        return null;
    }
}
