using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The namespace this page works in, when the dashboard operates several (Kubernetes:Namespaces). The choice is this
/// circuit's: the pages follow it, other users' pages keep theirs.
/// </summary>
public sealed partial class NamespaceSelector
{
    // Deep links: with several namespaces the address carries ?ns=NAME on every page, so a pasted link opens the
    // namespace its sender was looking at.
    protected override async Task OnInitializedAsync()
    {
        if (Selection.Names.Count <= 1)
        {
            return;
        }

        string? wanted = Nav.GetQueryParameter("ns");
        if (wanted is not null && wanted != Selection.Name)
        {
            if (Selection.Names.Contains(wanted))
            {
                await SelectAsync(wanted);
            }
            else
            {
                Snackbar.Add($"This dashboard does not operate the namespace {wanted}; showing {Selection.Name}. It operates {string.Join(", ", Selection.Names)}.", Severity.Warning);
            }
        }

        Nav.LocationChanged += KeepInAddress;
        KeepInAddress(null, null);
    }

    private void KeepInAddress(object? sender, Microsoft.AspNetCore.Components.Routing.LocationChangedEventArgs? e)
    {
        // Not while prerendering: a navigation there is a redirect.
        if (RendererInfo.IsInteractive && Selection.Name is { } name && Nav.GetQueryParameter("ns") != name)
        {
            Nav.NavigateTo(Nav.GetUriWithQueryParameter("ns", name), replace: true);
        }
    }

    private async Task SelectAsync(string? name)
    {
        if (await Actions.TryAsync($"switch to the namespace {name}", () => Selection.SelectAsync(name ?? "")) is { } failure)
        {
            Snackbar.Add(failure.Message, Severity.Error);
            return;
        }

        KeepInAddress(null, null);
    }

    public void Dispose() => Nav.LocationChanged -= KeepInAddress;
}
