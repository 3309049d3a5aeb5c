using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components;
using PiOps.Web.Security;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// The sign-in page: a user name and password form, and sign-in with the organisation's identity provider when OIDC is
/// on.
/// </summary>
public sealed partial class SignIn
{
    private string? _error;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = default!;

    [SupplyParameterFromForm]
    private SignInForm? Input { get; set; }

    protected override void OnInitialized() => Input ??= new();

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    private string SecurityServicesLocalUrl => PiOps.Web.Security.SecurityServices.LocalUrl(ReturnUrl);

    private async Task SignInAsync()
    {
        var outcome = await SignInService.SignInAsync(Input!.UserName, Input.Password, HttpContext.Connection.RemoteIpAddress);
        if (outcome.User is null)
        {
            _error = outcome.Error;
            return;
        }

        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, outcome.User);
        Navigation.NavigateTo(SecurityServicesLocalUrl);
    }

    private sealed class SignInForm
    {
        public string? UserName { get; set; }

        public string? Password { get; set; }
    }
}
