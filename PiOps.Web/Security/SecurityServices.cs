using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using PiOps.Web.Audit;
using PiOps.Web.Configuration;
using PiOps.Shared.Queue;
using PiOps.Web.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Workloads;

namespace PiOps.Web.Security;

/// <summary>
/// Who may look and who may act: sign-in (configured users, an admin password, OpenID Connect) or, with none
/// configured, this machine only; API tokens; roles on every path (the guarded faces of the queue and the workloads,
/// which write the audit trail); security headers.
/// </summary>
public static class SecurityServices
{
    private const string Selector = "PiOps";

    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddValidatedOptions<AuthOptions>(AuthOptions.Section, o => o.Validate());
        services.AddValidatedOptions<AccessOptions>(AccessOptions.Section, o => o.Validate());
        // Sign-in counts are in Redis, so a lockout and an address's limit hold across replicas.
        services.AddSingleton(sp => new SignInCounters(() => sp.GetRequiredService<RedisConnection>().Multiplexer.GetDatabase(),
            new DashboardKeys(sp.GetRequiredService<IOptions<QueueOptions>>().Value.QueueName)));
        services.AddSingleton<SignInService>();
        services.AddSingleton<ApiTokens>();
        services.AddScoped<TokenAdministration>();
        // Pages, the API and the hub get the guarded faces of the queue actions and of the workloads: roles checked,
        // every change audited.
        services.AddScoped<IQueueOperations, GuardedQueueOperations>();
        services.AddScoped<OperatorGuard>();
        services.AddScoped<IWorkloadRuntime, GuardedWorkloadRuntime>();
        services.AddHttpContextAccessor();
        services.AddScoped<UserContext>();
        services.AddScoped<CircuitHandler, UserCircuitHandler>();
        services.AddSessions();
        // The key ring behind cookies and antiforgery tokens is shared through Redis by every replica and restart.
        services.AddDataProtection().SetApplicationName("PiOps");
        services.AddSingleton(sp => new RedisKeyRing(() => sp.GetRequiredService<RedisConnection>().Multiplexer.GetDatabase(),
            new QueueKeys(sp.GetRequiredService<IOptions<QueueOptions>>().Value.QueueName).DataProtection, sp.GetRequiredService<ILogger<RedisKeyRing>>()));
        services.AddOptions<KeyManagementOptions>().Configure<RedisKeyRing>((o, ring) => o.XmlRepository = ring);

        var authentication = services.AddAuthentication(Selector)
            // A bearer token is checked in every mode, so a producer can try its token against a local dashboard and
            // a wrong one gets 401 rather than acting as the local Admin.
            .AddPolicyScheme(Selector, "PiOps", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? ApiTokenHandler.SchemeName
                : !auth.Enabled ? LocalAccessHandler.SchemeName
                : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, LocalAccessHandler>(LocalAccessHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/signin";
                o.Cookie.Name = "piops.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = auth.SessionLifetime;
                o.SlidingExpiration = true;
                // The API and the hub answer 401/403; only pages are sent to the sign-in page.
                o.Events.OnRedirectToLogin = c => Status(c, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = c => Status(c, StatusCodes.Status403Forbidden);
            });
        if (auth.Oidc.Enabled)
        {
            authentication.AddOpenIdConnect(OpenIdConnectDefaults.AuthenticationScheme, o =>
            {
                o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.Authority = auth.Oidc.Authority;
                o.ClientId = auth.Oidc.ClientId;
                o.ClientSecret = auth.Oidc.ClientSecret;
                o.ResponseType = "code";
                o.UsePkce = true;
                o.RequireHttpsMetadata = auth.Oidc.RequireHttpsMetadata;
                o.MapInboundClaims = false;
                o.TokenValidationParameters.NameClaimType = "name";
                o.Scope.Clear();
                foreach (var scope in auth.Oidc.Scopes)
                {
                    o.Scope.Add(scope);
                }

                o.Events.OnTokenValidated = c =>
                {
                    var role = OidcRoles.Map(c.Principal!, auth.Oidc);
                    if (role is null)
                    {
                        c.Fail($"Your account has no PiOps role: none of your {auth.Oidc.RoleClaim} is mapped in Auth:Oidc:Roles.");
                        return Task.CompletedTask;
                    }

                    var p = c.Principal!;
                    string name = p.FindFirstValue("preferred_username") ?? p.FindFirstValue("email")
                        ?? p.FindFirstValue("name") ?? p.FindFirstValue("sub") ?? "oidc user";
                    var signedIn = SignInService.Principal(name, role, CookieAuthenticationDefaults.AuthenticationScheme, "oidc");
                    UserSessions.KeepOidcValues(p, signedIn, auth.Oidc);
                    c.Principal = signedIn;
                    return Task.CompletedTask;
                };
            });
        }

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Roles.Operate, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Roles.Administer, p => p.RequireRole(Roles.Admin));
        services.AddCascadingAuthenticationState();
        // X-Frame-Options is set once, with the other security headers.
        services.AddAntiforgery(o => o.SuppressXFrameOptionsHeader = true);
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuditedAuthorizationResultHandler>();
        services.AddSignalR(o => o.AddFilter(new UserContextHubFilter()));
        // Forwarded headers are believed only from the proxies the operator named (Auth:KnownProxies, addresses or
        // networks); with none named the middleware is not used at all, since with empty lists it believes everyone.
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in auth.KnownProxies)
            {
                if (IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
                else if (System.Net.IPNetwork.TryParse(proxy, out var network))
                {
                    o.KnownIPNetworks.Add(network);
                }
            }
        });
        return builder;
    }

    private static Task Status(RedirectContext<CookieAuthenticationOptions> c, int status)
    {
        if (c.Request.Path.StartsWithSegments("/api") || c.Request.Path.StartsWithSegments("/hubs"))
        {
            c.Response.StatusCode = status;
        }
        else
        {
            c.Response.Redirect(c.RedirectUri);
        }

        return Task.CompletedTask;
    }

    /// <summary>Before routing: forwarded headers from known proxies, security headers, the loopback guard, the cross-site check.</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.KnownProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<LoopbackOnlyMiddleware>();
        app.UseMiddleware<CrossSiteRequestMiddleware>();
        return app;
    }

    /// <summary>Authentication, authorization, the user of each request, and the sign-in and sign-out endpoints.</summary>
    public static WebApplication UseSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<UserContextMiddleware>();
        return app;
    }

    public static WebApplication MapSecurity(this WebApplication app)
    {
        app.MapGet("/signin/oidc", (string? returnUrl, IOptions<AuthOptions> auth) => auth.Value.Oidc.Enabled
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = LocalUrl(returnUrl) }, [OpenIdConnectDefaults.AuthenticationScheme])
                : Results.Text("Sign-in with an organisation's account (OpenID Connect) is not configured here (Auth:Oidc:Authority). " +
                               "Sign in with a user name and password at /signin.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound))
            .AllowAnonymous();
        app.MapPost("/signout", async (HttpContext http, IAntiforgery antiforgery) =>
            {
                // The attribute below only makes the antiforgery middleware validate and record the outcome; this
                // endpoint binds no form, so nothing would refuse a request without the token unless checked here.
                var validation = http.Features.Get<IAntiforgeryValidationFeature>();
                if (!(validation?.IsValid ?? await antiforgery.IsRequestValidAsync(http)))
                {
                    return Results.Text("Sign-out needs the form's antiforgery token: use the Sign out button of a dashboard page. You are still signed in.",
                        "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
                }

                await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return Results.Redirect("/signin");
            })
            .AllowAnonymous()
            .WithMetadata(new RequireAntiforgeryTokenAttribute());
        app.MapGet("/api/audit.csv", async (AuditLog audit, string? user, string? action, bool? failedOnly) =>
            {
                var entries = AuditFilter.Apply(await audit.ReadAsync(int.MaxValue), user, action, failedOnly ?? false);
                return Results.Text(AuditFilter.ToCsv(entries), "text/csv; charset=utf-8");
            })
            .WithTags("Audit");
        return app;
    }

    /// <summary>Only a path on this site: an absolute or protocol-relative URL would be an open redirect.</summary>
    public static string LocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}

/// <summary>
/// A change refused by a policy on the HTTP API is audited like one refused by the guards; everything else goes
/// on as the default handler does.
/// </summary>
public sealed class AuditedAuthorizationResultHandler(AuditLog audit, TimeProvider time) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            var user = context.User;
            await audit.WriteAsync(new AuditEntry(time.GetUtcNow(), user.Identity?.Name ?? "anonymous", Roles.All.LastOrDefault(user.IsInRole) ?? "none",
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown", "api", $"{context.Request.Method} {context.Request.Path}", "", "",
                false, "refused: the role may not do this"));
        }

        await _default.HandleAsync(next, context, policy, result);
    }
}
