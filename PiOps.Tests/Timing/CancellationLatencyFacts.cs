using System.Diagnostics;
using PiOps.Shared.Pi;
using Xunit;

namespace PiOps.Tests.Timing;

/// <summary>A running pi computation stops promptly when its token is cancelled (SIGTERM, a paused queue).</summary>
[Collection(TimingGoals.Name)]
public sealed class CancellationLatencyFacts
{
    [Fact]
    public async Task Compute_StopsWithin50Milliseconds_WhenCancelled()
    {
        var latencies = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            using var cts = new CancellationTokenSource();
            var started = new TaskCompletionSource();
            var run = Task.Run(() => LeibnizPi.Compute(100_000_000_000, _ => started.TrySetResult(), cts.Token));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var sw = Stopwatch.StartNew();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
            latencies.Add(sw.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        Assert.True(latencies[2] < 50, $"median cancellation latency {latencies[2]:F1} ms");
    }
}
