using System.Globalization;
using PiOps.Shared.Queue;

namespace PiOps.Web.Queue;

/// <summary>The rules for an enqueue request, as sentences per field; the page and the API share them.</summary>
public static class EnqueueValidation
{
    public static Dictionary<string, string[]> Validate(string? iterations, string? count, long maxIterations, int maxBatch)
    {
        var errors = new Dictionary<string, string[]>();
        var (_, itError) = TaskEntry.ParseIterations(iterations ?? "", maxIterations);
        if (itError is not null)
        {
            errors["iterations"] = [$"Iterations must be a whole number from 0 to {maxIterations.ToString("N0", CultureInfo.InvariantCulture)}: {itError}."];
        }

        if (count is not null)
        {
            var (k, countError) = TaskEntry.ParseIterations(count, maxBatch);
            if (countError is not null || k < 1)
            {
                errors["count"] = [$"Count must be a whole number from 1 to {maxBatch.ToString("N0", CultureInfo.InvariantCulture)}."];
            }
        }

        return errors;
    }
}
