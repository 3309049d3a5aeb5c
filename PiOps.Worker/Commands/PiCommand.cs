using PiOps.Shared.Pi;
using PiOps.Shared.Queue;

namespace PiOps.Worker.Commands;

/// <summary>`PiOps.Worker pi N`: prints the book's value for N iterations.</summary>
public static class PiCommand
{
    public static int Run(string text)
    {
        var (n, error) = TaskEntry.ParseIterations(text, LeibnizLimits.AbsoluteMaxIterations);
        if (error is not null)
        {
            Console.Error.WriteLine($"error: {error}");
            return 2;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            Console.WriteLine(LeibnizPi.Compute(n, cancellationToken: cts.Token).ToString());
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }
}
