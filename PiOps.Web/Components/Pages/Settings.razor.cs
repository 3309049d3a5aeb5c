using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Security;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// API tokens for producers and scripts, for Admins: make one (shown once, as only its hash is kept), list them, revoke
/// one.
/// </summary>
public sealed partial class Settings
{
    [CascadingParameter] private DisplayZone Zone { get; set; } = DisplayZone.Utc;

    private IReadOnlyList<ApiTokenInfo> _tokens = [];
    private string? _name;
    private string _role = Roles.Operator;
    private string? _made;
    private string? _error;

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            _tokens = await Tokens.ListAsync();
        }
        catch (TokenActionException ex)
        {
            _error = ex.Message;
        }
    }

    private async Task CreateAsync()
    {
        _error = null;
        _made = null;
        try
        {
            var (token, info) = await Tokens.CreateAsync(_name ?? "", _role);
            _made = token;
            _name = null;
            Snackbar.Add($"Token {info.Name} made with role {info.Role}.", Severity.Success);
            await LoadAsync();
        }
        catch (TokenActionException ex)
        {
            _error = ex.Message;
        }
    }

    private async Task RevokeAsync(ApiTokenInfo token)
    {
        if (await Dialogs.ShowMessageBoxAsync($"Revoke {token.Name}?", $"Requests with this token are refused from now on.", yesText: "Revoke", cancelText: "Cancel") != true)
        {
            return;
        }

        try
        {
            await Tokens.RevokeAsync(token);
            Snackbar.Add($"Token {token.Name} revoked.", Severity.Success);
            await LoadAsync();
        }
        catch (TokenActionException ex)
        {
            Snackbar.Add(ex.Message, Severity.Error);
        }
    }
}
