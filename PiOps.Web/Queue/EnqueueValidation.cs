using System.Globalization;
using PiOps.Shared.Queue;

namespace PiOps.Web.Queue;

/// <summary>
/// The one reading of what an operator or a producer asks to enqueue (the Enqueue page, the HTTP API, the
/// correct-and-retry dialog): iteration counts and batch sizes as <see cref="TaskEntry"/> reads them, and the
/// sentences that say what is wrong.
/// </summary>
public static class EnqueueValidation
{
    /// <summary>An iteration count from its text, or the sentence that says why it is not one.</summary>
    public static (long Value, string? Problem) Iterations(string? text, long maxIterations)
    {
        var (n, error) = TaskEntry.ParseIterations(text ?? "", maxIterations);
        return error is null ? (n, null)
            : (0, $"Iterations must be a whole number from 0 to {maxIterations.ToString("N0", CultureInfo.InvariantCulture)}: {error}.");
    }

    /// <summary>A batch size from its text, or the sentence that says why it is not one.</summary>
    public static (int Value, string? Problem) Count(string? text, int maxBatch)
    {
        var (k, error) = TaskEntry.ParseIterations(text ?? "", maxBatch);
        return error is null && k >= 1 ? ((int)k, null)
            : (0, $"Count must be a whole number from 1 to {maxBatch.ToString("N0", CultureInfo.InvariantCulture)}.");
    }

    /// <summary>Every problem of an enqueue form, as sentences per field; empty when it can be enqueued.</summary>
    public static Dictionary<string, string[]> Validate(string? iterations, string? count, long maxIterations, int maxBatch)
    {
        var errors = new Dictionary<string, string[]>();
        if (Iterations(iterations, maxIterations).Problem is { } itProblem)
        {
            errors["iterations"] = [itProblem];
        }

        if (count is not null && Count(count, maxBatch).Problem is { } countProblem)
        {
            errors["count"] = [countProblem];
        }

        return errors;
    }
}
