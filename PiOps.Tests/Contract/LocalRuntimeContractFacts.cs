using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Contract;

/// <summary>
/// The workload contract on the local runtime: real worker processes against a real redis-server. It starts some forty
/// worker processes, so it takes its turn with the other heavy classes rather than slow the timing tests beside it.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class LocalRuntimeContractFacts(RedisServer server) : WorkloadRuntimeContract, IClassFixture<RedisServer>
{
    private readonly string _data = Directory.CreateTempSubdirectory("piops-contract-").FullName;
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;

    protected override IWorkloadRuntime Runtime => _app.Workloads;

    public override async Task InitializeAsync() =>
        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 0, restartDelay: "00:00:00.5");

    // Locally a run now is a write of the CronJob's status (its last event and its runs), as the controller's are.
    protected override Task MoveCronJobStatusAsync(string name) => Runtime.RunCronJobNowAsync(name);

    // Sixty tasks of about a second each: at its next look (within its 15 s interval) the autoscaler sees 6 replicas'
    // worth of queue and scales the one worker to its maximum of 2.
    // Enough work that the queue stays above the target through several of the autoscaler's 15 s turns: one turn can
    // go by on standby while the dashboard takes its lease (a busy machine at the suite's start), and one worker drains
    // 60 tasks of 10⁹ iterations in about as long as a turn.
    protected override async Task MoveAutoscalerStatusAsync() =>
        await server.Db.ListRightPushAsync(_queue, Enumerable.Repeat((StackExchange.Redis.RedisValue)"1000000000", 400).ToArray());

    public override async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }
}
