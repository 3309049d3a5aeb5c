using System.Diagnostics;
using PiOps.Shared.Pi;

namespace PiOps.Bench;

/// <summary>
/// ns per iteration of LeibnizPi at n = 10^7 on one core, against the naive System.Decimal loop (the book's
/// computation in .NET) measured in the same process. Goal: at most 1 ns per iteration.
/// </summary>
internal static class PiBenchmark
{
    public static int Run(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;
        long naiveN = args.Length > 1 ? long.Parse(args[1]) : 1_000_000;
        const int rounds = 7;

        LeibnizPi.Compute(n); // warm-up: tiered compilation reaches the optimised vector loop
        var fast = new List<double>();
        PiValue value = default;
        for (int i = 0; i < rounds; i++)
        {
            var sw = Stopwatch.StartNew();
            value = LeibnizPi.Compute(n);
            fast.Add(sw.Elapsed.TotalNanoseconds / n);
        }

        LeibnizPi.ComputeNaiveDecimal(naiveN / 10);
        var naive = new List<double>();
        decimal naiveValue = 0;
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            naiveValue = LeibnizPi.ComputeNaiveDecimal(naiveN);
            naive.Add(sw.Elapsed.TotalNanoseconds / naiveN);
        }

        double fastMedian = Median(fast), naiveMedian = Median(naive);
        Console.WriteLine($"pi benchmark  vector width {System.Runtime.Intrinsics.Vector256<double>.Count * 64} bits, {Environment.ProcessorCount} cores, one used");
        Console.WriteLine($"LeibnizPi     n={n,-12} median {fastMedian,8:F3} ns/iteration  (min {fast.Min():F3})  -> {value}");
        Console.WriteLine($"naive decimal n={naiveN,-12} median {naiveMedian,8:F3} ns/iteration  (min {naive.Min():F3})  -> {naiveValue}");
        Console.WriteLine($"ratio naive/LeibnizPi: {naiveMedian / fastMedian:F1}x faster");
        bool ok = fastMedian <= 1.0;
        Console.WriteLine(ok ? "goal met: at most 1 ns per iteration" : "GOAL MISSED: more than 1 ns per iteration");
        return ok ? 0 : 1;
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
