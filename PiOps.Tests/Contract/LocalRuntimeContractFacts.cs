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
[Collection(PiOps.Tests.E2E.DashboardProcesses.Name)]
public sealed class LocalRuntimeContractFacts(RedisServer server) : WorkloadRuntimeContract, IClassFixture<RedisServer>
{
    private readonly string _data = Directory.CreateTempSubdirectory("piops-contract-").FullName;
    private DashboardApp _app = default!;

    protected override IWorkloadRuntime Runtime => _app.Workloads;

    public override async Task InitializeAsync() =>
        _app = await DashboardApp.StartWithLocalRuntimeAsync(server, TestRedisServer.NewQueueName(), _data, initialReplicas: 0, restartDelay: "00:00:00.5");

    public override async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }
}
