using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.HighAvailability;
using PiOps.Web.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Workloads;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A dashboard whose duties' leases another replica holds stands by, says so, and takes the duties over once the
/// leases are free. The other replica is a value in Redis, written as a dashboard would.
/// </summary>
public sealed class LeaseDutyFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Other = "other-host:4242:0badc0de";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-lease-").FullName;
    private DashboardApp _app = default!;

    private QueueKeys Keys => new(_queue);

    private RedisKey LeaseKey(string duty) => new DashboardKeys(_queue).Lease(duty);

    private IQueueState Queue => _app.Services.GetRequiredService<IQueueState>();

    private IWorkloadRuntime Runtime => _app.Workloads;

    public async Task InitializeAsync()
    {
        // Another replica holds every lease before this dashboard starts.
        foreach (var duty in new[] { DashboardLeases.DeadWorkerRecovery, DashboardLeases.LocalAutoscaler, DashboardLeases.LocalCronJobs })
        {
            await server.Db.StringSetAsync(LeaseKey(duty), Other, TimeSpan.FromMinutes(2));
        }

        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 0, restartDelay: "00:00:00.2",
            new Dictionary<string, string?>
            {
                ["Leases:Ttl"] = "00:00:03",
                ["Leases:RenewInterval"] = "00:00:01",
                ["LocalRuntime:AutoscalerInterval"] = "00:00:00.5",
            });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task WithoutTheRecoveryLease_DeadWorkersAreLeftToItsHolder_UntilTheLeaseIsFree()
    {
        var lease = _app.Services.GetRequiredService<DashboardLeases>().For(DashboardLeases.DeadWorkerRecovery);
        await server.Db.ListRightPushAsync(Keys.InFlight("gone-1"), "777");
        await server.Db.SetAddAsync(Keys.Workers, "gone-1");

        // Seen lost, then three recovery intervals (1 s each) of samples later still not recovered here.
        await Eventually.WaitAsync(() => Queue.Current.Workers.Any(w => w.Id == "gone-1" && w.Lost), Wait, "the dead worker, seen lost");
        var seenAt = Queue.Current.At;
        await Eventually.WaitAsync(() => Queue.Current.At - seenAt > TimeSpan.FromSeconds(3), Wait, "three seconds of samples");
        Assert.Equal(1, await server.Db.ListLengthAsync(Keys.InFlight("gone-1")));
        Assert.False(lease.IsHeld);
        Assert.Equal(Other, lease.HeldBy);
        Assert.Contains(new DutyHolder("dead-worker recovery", Other, false), Queue.Current.Duties);

        // The other replica is gone and its lease with it: this one takes the lease and recovers the task.
        await server.Db.KeyDeleteAsync(LeaseKey(DashboardLeases.DeadWorkerRecovery));
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(Keys.Queue) == 1, Wait, "the task recovered here");
        Assert.True(lease.IsHeld);
        Assert.Equal(lease.Holder, (string?)await server.Db.StringGetAsync(LeaseKey(DashboardLeases.DeadWorkerRecovery)));
        await Eventually.WaitAsync(() => Queue.Current.Duties.Contains(new DutyHolder("dead-worker recovery", lease.Holder, true)), Wait,
            () => "the Overview's line to name this dashboard: " + DutyHolder.Describe(Queue.Current.Duties));
    }

    [Fact]
    public async Task WithoutTheAutoscalerLease_TheAutoscalerStandsBy_AndSaysWhoScales()
    {
        await Runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 1, 3, null, 5, 2));

        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler?.Status?.Contains($"Standing by: the dashboard {Other} scales the workers") == true,
            Wait, () => $"the autoscaler standing by: {Runtime.Current.Autoscaler?.Status}");

        await server.Db.KeyDeleteAsync(LeaseKey(DashboardLeases.LocalAutoscaler));
        // Holding the lease it evaluates, and the HPA's own rule speaks: no scaling from 0 replicas.
        await Eventually.WaitAsync(() => Runtime.Current.Autoscaler?.Status?.StartsWith("Scaling is off while the Deployment has 0 replicas") == true,
            Wait, () => $"the autoscaler at work: {Runtime.Current.Autoscaler?.Status}");
    }
}
