using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using PiOps.Web.Components.Controls;

namespace PiOps.Web.Components.Layout;

/// <summary>
/// The dashboard's layout: the app bar (command palette, namespace, Redis, time zone, light or dark mode, the signed-in
/// user), the navigation drawer and the banners; it cascades the zone times are shown in to the pages.
/// </summary>
public sealed partial class MainLayout
{
    private MudThemeProvider? _themeProvider;
    private bool _dark;
    private bool _drawer = true;

    private static readonly DrawerLinks.Link[] Pages =
    [
        new("", Icons.Material.Filled.Dashboard, "Overview", Exact: true),
        new("enqueue", Icons.Material.Filled.AddTask, "Enqueue"),
        new("queue", Icons.Material.Filled.List, "Queue"),
        new("tasks", Icons.Material.Filled.Search, "Tasks"),
        new("dead-letters", Icons.Material.Filled.ReportProblem, "Dead letters"),
        new("workers", Icons.Material.Filled.Memory, "Workers"),
        new("jobs", Icons.Material.Filled.PlaylistPlay, "Jobs"),
        new("cronjobs", Icons.Material.Filled.Schedule, "CronJobs"),
        new("autoscaling", Icons.Material.Filled.AutoGraph, "Autoscaling"),
        new("logs", Icons.Material.Filled.Subject, "Logs"),
        new("audit", Icons.Material.Filled.History, "Audit"),
    ];

    private static readonly DrawerLinks.Link[] AdminPages = [new("settings", Icons.Material.Filled.Key, "API tokens")];
    // "light" or "dark" when the operator chose one in this browser; null follows the system.
    private string? _chosen;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && _themeProvider is not null)
        {
            // A click may arrive while these calls are awaited: what the operator chose then wins over what is read here.
            var zone = await JS.InvokeAsync<BrowserZone>("piopsClock.get");
            _browserZone = DisplayZone.FromBrowser(zone.Zone);
            if (!_zoneToggled)
            {
                _zone = zone.Utc ? DisplayZone.Utc : _browserZone;
            }

            string? chosen = await JS.InvokeAsync<string?>("piopsTheme.get");
            bool dark = chosen is null ? await _themeProvider.GetSystemDarkModeAsync() : chosen == "dark";
            if (_chosen is null)
            {
                _chosen = chosen;
                _dark = dark;
            }

            await _themeProvider.WatchSystemDarkModeAsync(SystemSchemeChanged);
            StateHasChanged();
        }
    }

    // UTC until the browser has said its zone (the first render is on the server).
    private DisplayZone _zone = DisplayZone.Utc;
    private DisplayZone _browserZone = DisplayZone.Utc;
    private bool _zoneToggled;

    private sealed record BrowserZone(string? Zone, bool Utc);

    // The choice is stored before it is shown: a page opened right after sees it.
    private async Task ToggleUtcAsync()
    {
        _zoneToggled = true;
        var next = _zone.IsUtc ? _browserZone : DisplayZone.Utc;
        await JS.InvokeVoidAsync("piopsClock.setUtc", next.IsUtc);
        _zone = next;
    }

    // The system's light/dark changes are followed only while the operator has chosen neither.
    private Task SystemSchemeChanged(bool dark) => InvokeAsync(() =>
    {
        if (_chosen is null && dark != _dark)
        {
            _dark = dark;
            StateHasChanged();
        }
    });

    private async Task ToggleThemeAsync()
    {
        string next = _dark ? "light" : "dark";
        _chosen = next;
        await JS.InvokeVoidAsync("piopsTheme.set", next);
        _dark = next == "dark";
    }
}
