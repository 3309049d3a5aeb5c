using Microsoft.Playwright;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// The Logs page offers the containers of pods that have more than one (a sidecar), reads the one picked (kubectl logs
/// -c), keeps the choice in the address, and by default reads the container kubectl would choose (issue 15).
/// </summary>
[Collection(HeavyLanes.First)]
public sealed class LogContainerPickerEndToEndFacts(BrowserFixture browser, RedisServer server) : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>
{
    [Fact]
    public async Task PodWithASidecar_ThePickedContainersLinesAreShown_AndTheChoiceIsInTheAddress()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        string pod = await cluster.FirstWorkerPodAsync();
        cluster.Api.AddSidecar(pod, "log-shipper", first: false);
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.FirstOrDefault(p => p.Name == pod)?.Containers.Count == 2,
            TimeSpan.FromSeconds(30), "the snapshot to see the sidecar");
        cluster.Api.WriteLog(pod, "got task: 1000 (from the worker)");
        cluster.Api.WriteLog(pod, "shipped 3 batches", sidecar: "log-shipper");

        var page = await browser.NewPageAsync();
        {
            await LivePage.GoAsync(page, cluster.App.BaseAddress + $"/logs?target=pod/{pod}");
            var lines = page.Locator("[data-testid=log-line]");
            // By default the worker's container, as kubectl logs chooses it.
            await Assertions.Expect(lines.Filter(new() { HasText = "from the worker" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Assertions.Expect(lines.Filter(new() { HasText = "shipped 3 batches" })).ToHaveCountAsync(0);

            await page.Locator("[data-testid=log-container]").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "log-shipper" }).ClickAsync();

            await Assertions.Expect(lines.Filter(new() { HasText = "shipped 3 batches" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Assertions.Expect(lines.Filter(new() { HasText = "from the worker" })).ToHaveCountAsync(0);
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("container=log-shipper"), new() { Timeout = 15_000 });
            await Assertions.Expect(page.GetByText($"kubectl logs -f pod/{pod} -c log-shipper")).ToBeVisibleAsync();

            // The address alone opens the same view.
            await page.ReloadAsync();
            await LivePage.WaitInteractiveAsync(page);
            await Assertions.Expect(lines.Filter(new() { HasText = "shipped 3 batches" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        }

        await page.CloseAsync();
    }
}
