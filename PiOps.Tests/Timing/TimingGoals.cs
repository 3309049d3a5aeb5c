using Xunit;

namespace PiOps.Tests.Timing;

/// <summary>
/// The facts that assert a latency the issues name (a depth change on screen within 500 ms, cancellation within
/// 50 ms). They run alone, after every parallel collection, so they measure the product and not two cores shared with
/// worker processes and browsers of other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingGoals
{
    public const string Name = "Timing goals";
}
