using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Components;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Components.Controls;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// The workers' CPU and memory come from metrics-server's PodMetrics, and without metrics-server the columns say so
/// instead of showing zeros (issue 15, defect 6). The Deployment card renders the real Kubernetes runtime over the double.
/// </summary>
public sealed class PodMetricsFacts(RedisServer server) : BunitContext, IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ClusterDashboard _cluster = default!;
    private KubeApiDouble _api = default!;

    public async Task InitializeAsync() => _api = await KubeApiDouble.StartAsync();

    private async Task<IRenderedComponent<ContainerFragment>> StartAsync()
    {
        _cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?> { ["Kubernetes:MetricsInterval"] = "00:00:00.200" }, _api);
        this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_cluster.Runtime);
        return this.RenderWithProviders<DeploymentCard>();
    }

    [Fact]
    public async Task WithMetricsServer_PodRowsShowCpuOfTheRequest_AndMemory()
    {
        _api.MetricsServer = true;
        var card = await StartAsync();
        string pod = await _cluster.FirstWorkerPodAsync();
        _api.SetPodUsage(pod, "200000000n", "157286400"); // 200m of the 250m request; 150 MiB

        await Eventually.WaitAsync(() => _cluster.Runtime.Current.Workers.Pods.FirstOrDefault(p => p.Name == pod) is { CpuMillicores: 200 }, Wait,
            () => $"the pod's measured usage (now: {_cluster.Runtime.Current.Workers.Pods.FirstOrDefault(p => p.Name == pod)})");
        var view = _cluster.Runtime.Current.Workers.Pods.Single(p => p.Name == pod);
        Assert.Equal((80.0, 150L * 1024 * 1024, (double?)250, (string?)null), (view.CpuPercent, view.MemoryBytes, view.CpuRequestMillicores, view.UsageNote));
        // The others use the double's default: 125m, 100 MiB.
        Assert.All(_cluster.Runtime.Current.Workers.Pods.Where(p => p.Name != pod), p => Assert.Equal((50.0, 100L * 1024 * 1024), (p.CpuPercent, p.MemoryBytes)));

        card.WaitForAssertion(() =>
        {
            var row = card.FindAll("[data-testid=pods-table] tbody tr").Single(r => r.TextContent.Contains(pod, StringComparison.Ordinal));
            Assert.Equal("80 % (200m)", row.QuerySelector("[data-testid=pod-cpu]")!.TextContent.Trim());
            Assert.Equal("150 MiB", row.QuerySelector("[data-testid=pod-memory]")!.TextContent.Trim());
        }, Wait);
        // One list per namespace with the workers' selector, not one per pod or page.
        Assert.Contains(_api.Recorded, r => r.Path == $"/apis/metrics.k8s.io/v1beta1/namespaces/{KubeApiDouble.Namespace}/pods" && r.Query.Contains("labelSelector=app%3Dpi-worker", StringComparison.Ordinal));
        Assert.Equal(0, _api.MetricsRequests("get"));
    }

    [Fact]
    public async Task WithoutMetricsServer_TheColumnsSaySo()
    {
        var card = await StartAsync();

        await Eventually.WaitAsync(() => _cluster.Runtime.Current.Workers.Pods is { Count: 2 } pods && pods.All(p => p.UsageNote == PodMetricsCache.NoMetricsServer), Wait,
            () => $"every pod marked without metrics (now: {string.Join(", ", _cluster.Runtime.Current.Workers.Pods)})");
        card.WaitForAssertion(() =>
        {
            Assert.Equal(2, card.FindAll("[data-testid=pod-cpu]").Count);
            Assert.All(card.FindAll("[data-testid=pod-cpu]"), c => Assert.Equal("no metrics server", c.TextContent.Trim()));
            Assert.All(card.FindAll("[data-testid=pod-memory]"), c => Assert.Equal("no metrics server", c.TextContent.Trim()));
            Assert.DoesNotContain("0 MiB", card.Find("[data-testid=pods-table]").TextContent, StringComparison.Ordinal);
        }, Wait);
    }

    [Fact]
    public async Task MetricsServerInstalledLater_IsFoundAtTheNextRead()
    {
        var card = await StartAsync();
        await Eventually.WaitAsync(() => _cluster.Backend.Metrics.Unavailable == PodMetricsCache.NoMetricsServer, Wait, "no metrics server at first");

        _api.MetricsServer = true;

        await Eventually.WaitAsync(() => _cluster.Runtime.Current.Workers.Pods is { Count: 2 } pods && pods.All(p => p is { UsageNote: null, CpuPercent: 50 }), Wait,
            () => $"the pods measured (now: {string.Join(", ", _cluster.Runtime.Current.Workers.Pods)})");
        card.WaitForAssertion(() => Assert.All(card.FindAll("[data-testid=pod-cpu]"), c => Assert.Equal("50 % (125m)", c.TextContent.Trim())), Wait);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        else
        {
            await _api.DisposeAsync();
        }
    }

    protected override void Dispose(bool disposing)
    {
        // Disposed through IAsyncLifetime: MudBlazor's services are only IAsyncDisposable.
    }
}
