using Xunit;

namespace PiOps.Tests.Timing;

/// <summary>
/// The facts behind latencies the issues name (a depth change on screen, a cancellation): they check that the thing
/// happens, and `./bench/run.sh page-latency` and `cancel` measure how fast. They run alone, after every parallel
/// collection, so their printed figures are not those of two cores shared with other tests' workers and browsers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingGoals
{
    public const string Name = "Timing goals";
}
