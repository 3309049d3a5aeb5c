namespace PiOps.Tests.Infrastructure;

/// <summary>
/// Tests that start whole dashboard processes, browsers or fleets of workers run in two lanes: one class at a time in
/// each, so at most two heavy classes share the machine, and a third thread (xunit.runner.json) runs the light tests
/// beside them. With one lane the suite took 24 minutes, most of them with a single test running; each lane now holds
/// about half of the heavy classes' time (about 400 s and 340 s in a run under stress-ng --cpu 2).
/// </summary>
public static class HeavyLanes
{
    /// <summary>Pages driven in a browser: the end-to-end, keyboard, accessibility and layout facts.</summary>
    public const string First = "Heavy lane 1";

    /// <summary>Worker fleets, Redis kills and failovers, and the facts that count a dashboard's requests.</summary>
    public const string Second = "Heavy lane 2";
}
