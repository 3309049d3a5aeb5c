namespace PiOps.Tests.Resilience;

/// <summary>
/// The resilience tests run several worker processes, a dashboard or a load generator each: they join the heavy
/// dashboard-process collection, so only one such class runs at a time on a two-core machine.
/// </summary>
public static class ResilienceCollection
{
    public const string Name = E2E.DashboardProcesses.Name;
}
