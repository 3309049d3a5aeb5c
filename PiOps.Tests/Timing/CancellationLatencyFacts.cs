using System.Diagnostics;
using PiOps.Shared.Pi;
using Xunit;
using Xunit.Abstractions;

namespace PiOps.Tests.Timing;

/// <summary>
/// A running pi computation stops when its token is cancelled (SIGTERM, a paused queue), long before it would have
/// finished. How fast is measured by `./bench/run.sh cancel` (goal: median under 50 ms), not here.
/// </summary>
[Collection(TimingGoals.Name)]
public sealed class CancellationLatencyFacts(ITestOutputHelper output)
{
    [Fact]
    public async Task Compute_Stops_WhenCancelled()
    {
        var latencies = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            using var cts = new CancellationTokenSource();
            var started = new TaskCompletionSource();
            // 1e11 iterations: about a minute of one core; a computation that ignored the token would outlast the wait.
            var run = Task.Run(() => LeibnizPi.Compute(100_000_000_000, _ => started.TrySetResult(), cts.Token));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var sw = Stopwatch.StartNew();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(15)));
            latencies.Add(sw.Elapsed.TotalMilliseconds);
        }

        output.WriteLine($"stopped after {string.Join(", ", latencies.Select(l => $"{l:F1} ms"))}");
    }
}
