using System.Text.Json;

namespace PiOps.Web.Workloads;

/// <summary>
/// Whether two workload snapshots show the same thing, their time of sampling aside: the runtimes publish, and the
/// pages render, only what changed. The records hold lists, whose equality is by reference, so the comparison is of
/// their JSON, which for a few hundred pods is a fraction of a millisecond.
/// </summary>
public static class SnapshotComparison
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>True when only <see cref="WorkloadSnapshot.At"/> differs (and, with <paramref name="withHistory"/> false, the autoscaler's chart).</summary>
    public static bool SameContent(this WorkloadSnapshot a, WorkloadSnapshot b, bool withHistory = true) =>
        ReferenceEquals(a, b) || JsonSerializer.SerializeToUtf8Bytes(Comparable(a, withHistory), Json)
            .AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(Comparable(b, withHistory), Json));

    private static WorkloadSnapshot Comparable(WorkloadSnapshot s, bool withHistory) => s with
    {
        At = default,
        Autoscaler = withHistory || s.Autoscaler is null ? s.Autoscaler : s.Autoscaler with { History = [] },
    };
}
