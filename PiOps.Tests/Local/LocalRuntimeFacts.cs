using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Local;

/// <summary>The local runtime with real worker processes against a real redis-server.</summary>
public sealed class LocalRuntimeFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-local-").FullName;
    private DashboardApp _app = default!;

    private IWorkloadRuntime Runtime => _app.Services.GetRequiredService<IWorkloadRuntime>();

    private Task<DashboardApp> StartAppAsync(int initialReplicas = 0) => DashboardApp.StartAsync(server, _queue, new Dictionary<string, string?>
    {
        ["LocalRuntime:Enabled"] = "true",
        ["LocalRuntime:InitialReplicas"] = initialReplicas.ToString(),
        ["LocalRuntime:RestartDelay"] = "00:00:00.5",
        ["LocalRuntime:GracePeriod"] = "00:00:15",
        ["Embedded:DataDirectory"] = _data,
    });

    public async Task InitializeAsync() => _app = await StartAppAsync();

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private Task WaitForAsync(Func<DeploymentView, bool> condition, string what) =>
        Eventually.WaitAsync(() => condition(Runtime.Current.Workers), Wait, what);

    [Fact]
    public async Task Scale_StartsWorkerProcesses_ThatTakeTasks()
    {
        await Runtime.ScaleAsync(2);

        await WaitForAsync(d => d.Pods.Count == 2 && d.Ready == 2, "two ready pods");
        Assert.All(Runtime.Current.Workers.Pods, p => Assert.StartsWith("pi-worker-", p.Name));
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, ["1000", "2000"]);
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(new QueueKeys(_queue).Results) == 2, Wait, "both tasks done");
        var workers = (await server.Db.SetMembersAsync(new QueueKeys(_queue).Workers)).Select(v => (string)v!).ToList();
        Assert.All(Runtime.Current.Workers.Pods, p => Assert.Contains(workers, w => w.StartsWith(p.Name + "-")));
        Assert.Contains(Runtime.Logs(Runtime.Current.Workers.Pods[0].Name), l => l.Text.StartsWith("starting"));
    }

    [Fact]
    public async Task KilledPod_IsRestartedInPlace()
    {
        await Runtime.ScaleAsync(1);
        await WaitForAsync(d => d.Ready == 1, "a ready pod");
        var pod = Runtime.Current.Workers.Pods.Single();

        WorkerProcessSignals.Send(pod.Pid!.Value, 9);

        await WaitForAsync(d => d.Pods.Single().Restarts == 1 && d.Pods.Single().Ready, "the pod restarted");
        var again = Runtime.Current.Workers.Pods.Single();
        Assert.Equal(pod.Name, again.Name);
        Assert.NotEqual(pod.Pid, again.Pid);
    }

    [Fact]
    public async Task ScaleDown_StopsPodsWithSigterm()
    {
        await Runtime.ScaleAsync(2);
        await WaitForAsync(d => d.Ready == 2, "two ready pods");
        var newest = Runtime.Current.Workers.Pods.OrderByDescending(p => p.StartedAt).First();

        await Runtime.ScaleAsync(1);

        await WaitForAsync(d => d.Pods.Count == 1, "one pod left");
        Assert.NotEqual(newest.Name, Runtime.Current.Workers.Pods.Single().Name);
        Assert.Equal(1, Runtime.Current.Workers.Desired);
    }

    [Fact]
    public async Task Replicas_SurviveADashboardRestart_AndProcessesDoNot()
    {
        await Runtime.ScaleAsync(1);
        await WaitForAsync(d => d.Ready == 1, "a ready pod");
        int pid = Runtime.Current.Workers.Pods.Single().Pid!.Value;

        await _app.DisposeAsync();
        Assert.False(PiOps.Shared.Processes.PosixSignals.IsAlive(pid), "the worker outlived the dashboard");

        _app = await StartAppAsync(initialReplicas: 0);
        await WaitForAsync(d => d.Desired == 1 && d.Ready == 1, "the saved replica count restored");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public async Task Scale_OutOfRange_IsRefusedWithASentence(int replicas)
    {
        var ex = await Assert.ThrowsAsync<WorkloadActionException>(() => Runtime.ScaleAsync(replicas));

        Assert.Contains("Replicas must be from 0 to 32", ex.Message);
        Assert.Equal(0, Runtime.Current.Workers.Desired);
    }
}

/// <summary>A worker started by the local runtime stops by itself when the dashboard is gone, even after SIGKILL.</summary>
public sealed class ParentWatchFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Worker_Stops_WhenItsParentIsGone()
    {
        using var parent = System.Diagnostics.Process.Start("sleep", "60");
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, TestRedisServer.NewQueueName(),
            ("PIOPS_PARENT_PID", parent.Id.ToString())));
        await worker.WaitForLineAsync(l => l.StartsWith("starting"), TimeSpan.FromSeconds(30), "the worker to start");

        parent.Kill();

        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("parent gone: stopping", worker.Lines);
    }
}
