using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Interfaces;
using PiOps.Web.Components.Layout;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>
/// The drawer's links keep what MudNavLink gave: its classes and icon, the current page marked active with
/// aria-current, and a click told to the drawer (which closes itself after navigating in a narrow window).
/// </summary>
public sealed class DrawerLinksFacts : BunitContext
{
    private sealed class Drawer : INavigationEventReceiver
    {
        public int Navigations { get; private set; }

        public Task OnNavigation()
        {
            Navigations++;
            return Task.CompletedTask;
        }
    }

    private static readonly DrawerLinks.Link[] Links =
    [
        new("", MudBlazor.Icons.Material.Filled.Dashboard, "Overview", Exact: true),
        new("jobs", MudBlazor.Icons.Material.Filled.PlaylistPlay, "Jobs"),
    ];

    [Fact]
    public void TheCurrentPage_IsActive_WithAriaCurrent_AndOnlyIt()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("jobs?job=pi-1");
        var links = Render<DrawerLinks>(p => p.Add(c => c.Links, Links));

        var anchors = links.FindAll("div.mud-nav-item > a.mud-nav-link");
        Assert.Equal(["Overview", "Jobs"], anchors.Select(a => a.TextContent.Trim()));
        Assert.Equal([false, true], anchors.Select(a => a.ClassList.Contains("active")));
        Assert.Equal([null, "page"], anchors.Select(a => a.GetAttribute("aria-current")));
        Assert.All(anchors, a => Assert.True(a.QuerySelector("svg.mud-nav-link-icon")?.ChildElementCount > 0));
    }

    [Fact]
    public void AClick_IsToldToTheDrawer()
    {
        var drawer = new Drawer();
        var links = Render<CascadingValue<INavigationEventReceiver>>(p => p
            .Add(c => c.Value, drawer)
            .AddChildContent<DrawerLinks>(l => l.Add(c => c.Links, Links)));

        links.FindAll("a.mud-nav-link")[1].Click();

        Assert.Equal(1, drawer.Navigations);
    }
}
