using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Controls;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

public sealed class DeploymentCardFacts : AsyncBunitContext
{
    private readonly FakeWorkloadRuntime _runtime = new();

    public DeploymentCardFacts()
    {
        this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Fact]
    public async Task APodWhoseFiguresChange_KeepsItsRowAndItsOpenDetails()
    {
        var now = DateTimeOffset.UtcNow;
        var pod = new PodView("pi-worker-abc-q9z2m", "Running", true, 0, now, 3, 50_000_000, "node-1", null, null);
        _runtime.Workers = new DeploymentView("pi-worker", 1, 1, 1, [pod]);
        var card = this.RenderWithProviders<DeploymentCard>();
        card.Act(() => card.Find("[data-testid=pod-details-toggle]").Click());
        card.WaitForAssertion(() => Assert.Single(card.FindAll("[data-testid=pod-details]")));
        var row = card.FindComponent<MudBlazor.MudTr>().Instance;

        _runtime.Workers = new DeploymentView("pi-worker", 1, 1, 1, [pod with { CpuPercent = 97, Restarts = 1 }]);
        await _runtime.PublishAsync();

        card.WaitForAssertion(() => Assert.Contains("97 %", card.Find("[data-testid=pods-table]").TextContent));
        Assert.Same(row, card.FindComponent<MudBlazor.MudTr>().Instance);
        Assert.Single(card.FindAll("[data-testid=pod-details]"));
    }

    [Fact]
    public void Pod_ShowsItsWarningCount_AndItsEvents_WhenOpened()
    {
        var now = DateTimeOffset.UtcNow;
        var pending = new PodView("pi-worker-abc-x7k2p", "Pending", false, 0, now, 0, 0, "", null, null)
        {
            Events = [new ObjectEvent(now, ObjectEvent.Warning, "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", 4)],
        };
        var running = new PodView("pi-worker-abc-q9z2m", "Running", true, 0, now, 0, 0, "node-1", null, null);
        _runtime.Workers = new DeploymentView("pi-worker", 2, 1, 1, [pending, running]);
        var card = this.RenderWithProviders<DeploymentCard>();

        Assert.Equal("1", Assert.Single(card.FindAll("[data-testid=warnings]")).TextContent.Trim());

        card.Act(() => card.FindAll("[data-testid=pod-details-toggle]")[0].Click());

        card.WaitForAssertion(() => Assert.Single(card.FindAll("[data-testid=pod-details]")));
        var details = card.Find("[data-testid=pod-details]");
        Assert.Equal("FailedScheduling", details.QuerySelector("[data-testid=event-reason]")!.TextContent.Trim());
        Assert.Contains("0/3 nodes are available: 3 Insufficient cpu.", details.TextContent);

        card.Act(() => card.FindAll("[data-testid=pod-details-toggle]")[1].Click());
        card.WaitForAssertion(() => Assert.Equal(2, card.FindAll("[data-testid=pod-details]").Count));
        Assert.Single(card.FindAll("[data-testid=events-none]"));
    }
}
