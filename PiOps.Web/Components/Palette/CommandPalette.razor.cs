using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;
using PiOps.Web.Security;

namespace PiOps.Web.Components.Palette;

/// <summary>
/// The command palette: opened by Ctrl+K (⌘K) anywhere, or its button in the app bar. It renders what
/// <see cref="PaletteSearch"/> finds in the current workload snapshot and goes where the operator picks; Esc gives
/// focus back to where it was. The text box is left uncontrolled (never written from here), so no render can take
/// back a keystroke the browser already shows.
/// </summary>
public sealed partial class CommandPalette
{
    private DotNetObjectReference<CommandPalette>? _self;
    private ElementReference _input;
    private bool _open;
    private bool _focusPending;
    private string _query = "";
    private int _selected;
    private IReadOnlyList<PaletteEntry> _results = [];
    private bool _isAdmin;

    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        if (AuthenticationState is not null)
        {
            _isAdmin = (await AuthenticationState).User.IsInRole(Roles.Admin);
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _self = DotNetObjectReference.Create(this);
            await JS.InvokeVoidAsync("piopsPalette.attach", _self);
        }

        if (_focusPending && _open)
        {
            _focusPending = false;
            await JS.InvokeVoidAsync("piopsPalette.focus", _input);
        }
    }

    /// <summary>Ctrl+K, from the page's script. Opening an open palette puts the focus back in its box.</summary>
    [JSInvokable]
    public Task Open() => InvokeAsync(() =>
    {
        if (!_open)
        {
            _open = true;
            _query = "";
            Search();
        }

        _focusPending = true;
        StateHasChanged();
    });

    private async Task OpenFromButtonAsync()
    {
        await JS.InvokeVoidAsync("piopsPalette.remember");
        await Open();
    }

    private void QueryChanged(ChangeEventArgs e)
    {
        _query = e.Value?.ToString() ?? "";
        Search();
    }

    private void Search()
    {
        _results = PaletteSearch.Find(_query, Runtime.Current, _isAdmin);
        _selected = 0;
    }

    private async Task KeyAsync(KeyboardEventArgs e)
    {
        switch (e.Key)
        {
            case "ArrowDown" when _results.Count > 0:
                _selected = (_selected + 1) % _results.Count;
                break;
            case "ArrowUp" when _results.Count > 0:
                _selected = (_selected + _results.Count - 1) % _results.Count;
                break;
            case "Enter" when _results.Count > 0:
                await GoAsync(_results[Math.Min(_selected, _results.Count - 1)]);
                break;
            case "Escape":
                await CloseAsync();
                break;
        }
    }

    private Task GoAsync(PaletteEntry entry)
    {
        _open = false;
        Nav.NavigateTo(entry.Href);
        return Task.CompletedTask;
    }

    private async Task CloseAsync()
    {
        _open = false;
        StateHasChanged();
        await JS.InvokeVoidAsync("piopsPalette.restore");
    }

    public async ValueTask DisposeAsync()
    {
        if (_self is not null)
        {
            try
            {
                await JS.InvokeVoidAsync("piopsPalette.detach");
            }
            catch (JSDisconnectedException)
            {
                // The page is gone, and its listener with it.
            }

            _self.Dispose();
        }
    }
}
