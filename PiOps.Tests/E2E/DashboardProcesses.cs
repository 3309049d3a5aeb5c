namespace PiOps.Tests.E2E;

/// <summary>
/// The tests that start whole dashboard processes and a browser run one class at a time: each is heavy, and timing
/// goals (a depth change within 500 ms, first page loads) are about the product, not a machine running them all.
/// </summary>
public static class DashboardProcesses
{
    public const string Name = "Dashboard processes";
}
