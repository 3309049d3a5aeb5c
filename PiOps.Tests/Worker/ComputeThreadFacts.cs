using PiOps.Shared.Pi;
using PiOps.Worker.Processing;
using Xunit;

namespace PiOps.Tests.Worker;

/// <summary>The worker's thread for long tasks: one thread for all of them, and each task's outcome comes back whole.</summary>
public sealed class ComputeThreadFacts
{
    [Fact]
    public async Task LongTasks_RunOneAfterAnother_OnTheSameThread_NotTheCallers()
    {
        using var compute = new ComputeThread();
        var threads = new List<(int Id, string? Name)>();
        for (int i = 0; i < 3; i++)
        {
            threads.Add(await compute.RunAsync(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.Name)));
        }

        Assert.Single(threads.Distinct());
        Assert.Equal("pi compute", threads[0].Name);
        Assert.NotEqual(Environment.CurrentManagedThreadId, threads[0].Id);
        Assert.Equal(LeibnizPi.Compute(2_000_000).ToString(), (await compute.RunAsync(() => LeibnizPi.Compute(2_000_000))).ToString());
    }

    [Fact]
    public async Task AFailureOrACancellation_ComesBackToTheAwaiter_AndTheThreadRunsTheNextTask()
    {
        using var compute = new ComputeThread();
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => compute.RunAsync<int>(() => throw new InvalidOperationException("bad")));
        Assert.Equal("bad", failed.Message);

        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => compute.RunAsync(() => LeibnizPi.Compute(50_000_000, null, stop.Token)));
        Assert.Equal(stop.Token, cancelled.CancellationToken);

        Assert.Equal(42, await compute.RunAsync(() => 42));
    }
}
