using PiOps.Web.Queue;
using Xunit;

namespace PiOps.Tests.Web;

/// <summary>
/// How the monitor tells a failover from a restart, from what INFO says in successive samples. The replication ids and
/// their behaviour are Redis's (PSYNC2: a promoted replica keeps its old primary's id as master_replid2; a replica
/// reports its primary's id as its own master_replid).
/// </summary>
public sealed class RedisWatchFacts
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 20, 0, 0, TimeSpan.Zero);
    private static readonly QueueTotals Totals = new(10, 5, 0, 0, 0);

    private static RedisServerInfo Info(string runId, string role, string replId, string replId2 = "0000") => new(runId, role, replId, replId2, 100, []);

    private static RedisWatch Watching(string endpoint)
    {
        var watch = new RedisWatch();
        Assert.Null(watch.Observe(T0, Info("run-a", "master", "history-a"), endpoint, Totals, 3));
        return watch;
    }

    [Fact]
    public void APromotedReplica_CarryingTheOldPrimarysIdAsItsSecond_IsAFailover()
    {
        var notice = Watching("127.0.0.1:7000").Observe(T0.AddSeconds(2), Info("run-b", "master", "history-b", "history-a"), "127.0.0.1:7001", Totals, 3);

        Assert.True(notice is { Restarted: true, FailedOver: true, DataLost: false }, notice?.Message);
        Assert.Contains("127.0.0.1:7001 is the primary now, in place of 127.0.0.1:7000", notice!.Message);
    }

    [Fact]
    public void AReplicaAnsweringReads_WhileThereIsNoPrimary_IsNeitherARestartNorTheFailover()
    {
        var watch = Watching("127.0.0.1:7000");
        // The primary is gone; the client reads from a replica (another process, the old primary's history as its own).
        Assert.Null(watch.Observe(T0.AddSeconds(2), Info("run-c", "slave", "history-a"), "127.0.0.1:7002", Totals, 3));
        // Then the promoted replica answers as the primary.
        var notice = watch.Observe(T0.AddSeconds(4), Info("run-b", "master", "history-b", "history-a"), "127.0.0.1:7001", Totals, 3);

        Assert.True(notice is { FailedOver: true }, notice?.Message);
        Assert.Contains("127.0.0.1:7001 is the primary now, in place of 127.0.0.1:7000", notice!.Message);
    }

    [Fact]
    public void ARestartAtTheSameAddress_KeepingItsReplicationId_IsARestart()
    {
        var notice = Watching("127.0.0.1:7000").Observe(T0.AddSeconds(2), Info("run-b", "master", "history-a"), "127.0.0.1:7000", Totals, 3);

        Assert.True(notice is { Restarted: true, FailedOver: false, DataLost: false }, notice?.Message);
        Assert.StartsWith("Redis restarted", notice!.Message);
    }
}
