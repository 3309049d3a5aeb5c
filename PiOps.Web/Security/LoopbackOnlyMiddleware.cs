using System.Net;
using Microsoft.Extensions.Options;

namespace PiOps.Web.Security;

/// <summary>
/// The safe default, as Hangfire's dashboard does: only requests from this machine are served. Others get 403 and a
/// page that says how to open access. Health probes and metrics stay reachable (read-only, no secrets) so kubelet
/// and Prometheus can use them.
/// </summary>
/// With sign-in configured (section Auth), every address is served and sign-in decides.
public sealed class LoopbackOnlyMiddleware(RequestDelegate next, IOptions<AccessOptions> options, IOptions<AuthOptions> auth, ILogger<LoopbackOnlyMiddleware> log)
{
    private static readonly PathString[] Open = ["/health", "/metrics"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (auth.Value.Enabled || options.Value.AllowRemote || IsLocal(context.Connection) || Open.Any(p => context.Request.Path.StartsWithSegments(p)))
        {
            await next(context);
            return;
        }

        log.LogWarning("Refused {Method} {Path} from {Remote}: only local requests are served (Access:AllowRemote is off)",
            context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(RefusalPage);
    }

    private static bool IsLocal(ConnectionInfo c) =>
        c.RemoteIpAddress is null // in-memory test servers
        || IPAddress.IsLoopback(c.RemoteIpAddress)
        || (c.LocalIpAddress is not null && c.RemoteIpAddress.Equals(c.LocalIpAddress));

    private const string RefusalPage = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>PiOps: access from this address is off</title>
        <style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#eee;padding:0 .2rem}</style>
        </head><body>
        <h1>This PiOps dashboard answers only its own machine</h1>
        <p>The dashboard can enqueue, purge and pause work, so it serves only requests from the machine it runs on
        (including <code>kubectl port-forward</code>) until sign-in is configured.</p>
        <ul>
        <li>Use it locally: <code>kubectl port-forward svc/piops-dashboard 8080:80</code>, then open http://localhost:8080/.</li>
        <li>Or turn sign-in on: set <code>Auth__AdminPassword</code> (the Helm chart makes one and keeps it in a Secret), or
        configure users (<code>Auth__Users__0__Name</code>, <code>Auth__Users__0__Role</code> and
        <code>Auth__Users__0__PasswordHash</code>, made with <code>dotnet run --project PiOps.Web -- hash-password</code>), or
        OpenID Connect (<code>Auth__Oidc__Authority</code>, <code>Auth__Oidc__ClientId</code>, <code>Auth__Oidc__ClientSecret</code>).</li>
        <li>Or put it behind a proxy that authenticates users, and set <code>Access__AllowRemote=true</code>.</li>
        </ul>
        </body></html>
        """;
}
