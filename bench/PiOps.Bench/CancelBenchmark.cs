using System.Diagnostics;
using PiOps.Shared.Pi;

namespace PiOps.Bench;

/// <summary>
/// How long a running pi computation takes to stop once its token is cancelled (SIGTERM, a paused queue), over N
/// rounds (default 20), against the time Task machinery alone takes to report a cancelled task in the same run.
/// Goal: median under 50 ms.
/// </summary>
internal static class CancelBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 20;
        var stops = new List<double>();
        var floor = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            using var cts = new CancellationTokenSource();
            var started = new TaskCompletionSource();
            var run = Task.Run(() => LeibnizPi.Compute(100_000_000_000, _ => started.TrySetResult(), cts.Token));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            stops.Add(await TimeCancelAsync(cts, run));

            using var idle = new CancellationTokenSource();
            var waiting = Task.Delay(Timeout.Infinite, idle.Token);
            floor.Add(await TimeCancelAsync(idle, waiting));
        }

        double median = Median(stops), floorMedian = Median(floor);
        Console.WriteLine($"pi stops after cancel: median {median:F2} ms, worst {stops.Max():F2} ms " +
                          $"(a cancelled Task.Delay in the same run: median {floorMedian:F3} ms)");
        bool ok = median < 50;
        Console.WriteLine(ok ? "goal met: median under 50 ms" : "GOAL MISSED: median 50 ms or more");
        return ok ? 0 : 1;
    }

    private static async Task<double> TimeCancelAsync(CancellationTokenSource cts, Task task)
    {
        var sw = Stopwatch.StartNew();
        await cts.CancelAsync();
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
