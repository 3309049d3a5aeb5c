using PiOps.Shared.Redis;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Sessions that end (<see cref="UserSessions"/>): the sign-in cookie carries a stamp checked on every request, the
/// hub and the circuits check theirs as they go, and sign-out ends every session of the user.
/// </summary>
public static class SessionServices
{
    private const string Rejected = "piops:session-rejected";

    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddSingleton<UserSessions>();
        services.AddSingleton<LiveSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveSessions>());
        services.AddSingleton<SessionHubFilter>();
        services.Configure<HubOptions>(o => o.AddFilter<SessionHubFilter>());
        services.AddScoped<AuthenticationStateProvider, SessionAuthenticationStateProvider>();
        services.AddScoped<CircuitHandler, SessionCircuitHandler>();
        // After whatever the cookie's own configuration sets: these wrap its events rather than replace them.
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme).PostConfigure(o => Attach(o.Events));
        return services;
    }

    private static void Attach(CookieAuthenticationEvents events)
    {
        var signingIn = events.OnSigningIn;
        var validate = events.OnValidatePrincipal;
        var signingOut = events.OnSigningOut;

        // Every sign-in, with a password or OpenID Connect, comes through the cookie.
        events.OnSigningIn = async c =>
        {
            if (c.Principal?.Identity is ClaimsIdentity identity)
            {
                await c.HttpContext.RequestServices.GetRequiredService<UserSessions>().StartAsync(identity);
            }

            await signingIn(c);
        };

        // Every request with the cookie, as Identity's SecurityStampValidator does.
        events.OnValidatePrincipal = async c =>
        {
            await validate(c);
            if (c.Principal is null)
            {
                return;
            }

            var sessions = c.HttpContext.RequestServices.GetRequiredService<UserSessions>();
            if (await sessions.CheckAsync(c.Principal) is { } reason)
            {
                c.HttpContext.RequestServices.GetRequiredService<ILogger<UserSessions>>()
                    .LogInformation("Sign-in cookie of {User} refused: {Reason}", c.Principal.Identity?.Name, reason);
                c.RejectPrincipal();
                // Deletes the cookie; only this one, not the user's other sessions (see OnSigningOut).
                c.HttpContext.Items[Rejected] = true;
                await c.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            }
        };

        // Signing out ends every session of the user, on every replica.
        events.OnSigningOut = async c =>
        {
            if (!c.HttpContext.Items.ContainsKey(Rejected)
                && c.HttpContext.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieAuthenticationDefaults.AuthenticationScheme, Name: { } name })
            {
                try
                {
                    await c.HttpContext.RequestServices.GetRequiredService<UserSessions>().EndAllAsync(name);
                }
                catch (Exception ex) when (RedisFailure.Is(ex))
                {
                    // The browser's cookie is still deleted below; the user's other sessions end only once Redis is back and they sign out again.
                    c.HttpContext.RequestServices.GetRequiredService<ILogger<UserSessions>>()
                        .LogWarning("Signed {User} out here, but could not end their other sessions: Redis is unreachable ({Error})", name, ex.Message);
                }
            }

            await signingOut(c);
        };
    }
}
