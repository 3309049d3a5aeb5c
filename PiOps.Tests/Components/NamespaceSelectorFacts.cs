using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Extensions;
using PiOps.Web.Components.Controls;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

public sealed class NamespaceSelectorFacts : AsyncBunitContext
{
    public NamespaceSelectorFacts()
    {
        this.AddTestServices();
        Services.AddScoped<WorkloadSelection>();
    }

    private sealed class TwoNamespaces(params string[] names) : IWorkloadBackends
    {
        private readonly Dictionary<string, FakeWorkloadRuntime> _runtimes = names.ToDictionary(n => n, _ => new FakeWorkloadRuntime());

        public IReadOnlyList<string> Names => names;

        public IWorkloadRuntime Get(string? name) => _runtimes[name ?? names[0]];
    }

    [Fact]
    public async Task Select_OffersEveryNamespace_AndSwitchesThisCircuitsChoice()
    {
        Services.AddSingleton<IWorkloadBackends>(new TwoNamespaces("piops", "team-b"));
        var selector = this.RenderWithProviders<NamespaceSelector>();
        var selection = Services.GetRequiredService<WorkloadSelection>();

        var select = selector.FindComponent<MudSelect<string>>();
        Assert.Equal("piops", select.Instance.GetState(x => x.Value));
        await selector.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("team-b"));

        Assert.Equal("team-b", selection.Name);
        Assert.Same(Services.GetRequiredService<IWorkloadBackends>().Get("team-b"), selection.Backend);
        selector.WaitForAssertion(() => Assert.Equal("team-b", selector.FindComponent<MudSelect<string>>().Instance.GetState(x => x.Value)));
    }

    [Fact]
    public void DeepLink_TheAddressesNamespaceIsSelected_AndAChoiceIsWrittenBack()
    {
        Services.AddSingleton<IWorkloadBackends>(new TwoNamespaces("piops", "team-b"));
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        var nav = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo("/jobs?ns=team-b");
        var selector = this.RenderWithProviders<NamespaceSelector>();
        var selection = Services.GetRequiredService<WorkloadSelection>();

        selector.WaitForAssertion(() => Assert.Equal("team-b", selection.Name));
        selector.InvokeAsync(() => selector.FindComponent<MudSelect<string>>().Instance.ValueChanged.InvokeAsync("piops"));
        selector.WaitForAssertion(() => Assert.EndsWith("/jobs?ns=piops", nav.Uri));
        // A page opened without it gets it, so its address can be pasted as it is.
        nav.NavigateTo("/logs");
        selector.WaitForAssertion(() => Assert.EndsWith("/logs?ns=piops", nav.Uri));
    }

    [Fact]
    public void Select_IsNotShown_WithOneNamespace()
    {
        Services.AddSingleton<IWorkloadBackends>(new SingleWorkloadBackend(new FakeWorkloadRuntime()));

        var selector = this.RenderWithProviders<NamespaceSelector>();

        Assert.Empty(selector.FindAll("[data-testid=namespace-select]"));
        Assert.Empty(selector.FindComponents<MudSelect<string>>());
    }
}
