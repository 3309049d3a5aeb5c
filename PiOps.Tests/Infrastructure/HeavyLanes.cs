using Xunit;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("PiOps.Tests.Infrastructure.HeavyLanesFirst", "PiOps.Tests")]

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// Tests that start whole dashboard processes, browsers or fleets of workers run in two lanes: one class at a time in
/// each, so at most two heavy classes share the machine, and a third thread (xunit.runner.json) runs the light tests
/// beside them. Each lane holds about half of the heavy classes' time (about 400 s and 340 s in a run under stress-ng
/// --cpu 2), and <see cref="HeavyLanesFirst"/> starts both lanes first. With one lane the suite took 24 minutes, most
/// of them with a single test running.
/// </summary>
public static class HeavyLanes
{
    /// <summary>Pages driven in a browser: the end-to-end, keyboard, accessibility and layout facts.</summary>
    public const string First = "Heavy lane 1";

    /// <summary>Worker fleets, Redis kills, failovers and partitions, and the facts that count a dashboard's requests.</summary>
    public const string Second = "Heavy lane 2";
}

/// <summary>
/// xunit gives each running collection one of its threads until the collection ends. Started last (the default order
/// put them after hundreds of light classes), a lane ran alone at the end: the lanes go first, the rest keep their order.
/// </summary>
public sealed class HeavyLanesFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName switch
        {
            HeavyLanes.First => 0,
            HeavyLanes.Second => 1,
            _ => 2,
        });
}
