using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PiOps.Web.Security;

/// <summary>
/// Sign-in off (the safe default): every request that reaches here is from this machine (the loopback guard refused
/// the rest) or through a proxy that authenticates (Access:AllowRemote), and acts as an Admin named for where it is from.
/// </summary>
public sealed class LocalAccessHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Local";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var address = Context.Connection.RemoteIpAddress;
        string name = address is null || System.Net.IPAddress.IsLoopback(address) ? "local" : "remote " + address;
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(SignInService.Principal(name, Roles.Admin, SchemeName), SchemeName)));
    }
}

/// <summary>API tokens: "Authorization: Bearer piops_…", looked up by hash in Redis.</summary>
public sealed class ApiTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Token";

    /// <summary>The SHA-256 of the token a request came with.</summary>
    public const string TokenClaim = "piops:token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var info = await tokens.FindAsync(header["Bearer ".Length..].Trim());
        if (info is null)
        {
            return AuthenticateResult.Fail("The API token is not valid, or it was revoked.");
        }

        var principal = SignInService.Principal("token:" + info.Name, info.Role, SchemeName);
        // Which token, so an open hub connection can be ended when it is revoked (LiveSessions).
        ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaim(new System.Security.Claims.Claim(TokenClaim, ApiTokens.Hash(header["Bearer ".Length..].Trim())));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var result = await HandleAuthenticateOnceSafeAsync();
        await Response.WriteAsJsonAsync(new
        {
            title = result.Failure?.Message ?? "Sign in or send an API token: Authorization: Bearer piops_…",
            status = 401,
        });
    }
}
