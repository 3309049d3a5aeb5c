using PiOps.Worker.Processing;
using Xunit;

namespace PiOps.Tests.Worker;

/// <summary>
/// How many entries the worker takes in its next round trip: doubling while tasks are small, bounded by the pi terms a
/// batch may hold, so a worker never sits on more than about 40 ms of work that a free worker could run.
/// </summary>
public sealed class BatchSizeFacts
{
    [Theory]
    [InlineData(1_000_000, new[] { 2, 4, 8, 16, 32, 64, 64 })] // the book's smallest: up to the 64 entries a round trip
    [InlineData(5_500_000, new[] { 2, 4, 8, 11, 11, 11, 11 })] // its mean: 11 × 5.5 M ≤ 64 M terms
    [InlineData(10_000_000, new[] { 2, 4, 6, 6, 6, 6, 6 })] // its largest
    [InlineData(10, new[] { 2, 4, 8, 16, 32, 64, 64 })]
    [InlineData(0, new[] { 2, 4, 8, 16, 32, 64, 64 })] // a batch of bad entries only: nothing computed
    public void SmallTasks_GrowTheBatch_WithinItsTerms(long iterations, int[] expected)
    {
        int batch = 1;
        var seen = new List<int>();
        foreach (var _ in expected)
        {
            batch = QueueWorkerService.NextBatch(batch, iterations);
            seen.Add(batch);
            Assert.True((long)batch * Math.Max(1, iterations) <= QueueWorkerService.BatchTerms, $"{batch} × {iterations}");
        }

        Assert.Equal(expected, seen);
    }

    [Theory]
    [InlineData(10_000_001)]
    [InlineData(5_000_000_000)]
    public void ALongTask_TakesItsNextEntriesOneAtATime(long iterations)
    {
        Assert.Equal(1, QueueWorkerService.NextBatch(64, iterations));
        Assert.Equal(1, QueueWorkerService.NextBatch(1, iterations));
    }

    [Fact]
    public void AfterLargerTasks_TheBatchShrinks_ToWhatTheTermsAllow()
    {
        Assert.Equal(6, QueueWorkerService.NextBatch(64, 10_000_000));
        Assert.Equal(64, QueueWorkerService.NextBatch(32, 1_000_000));
    }
}
