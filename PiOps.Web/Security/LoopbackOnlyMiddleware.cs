using System.Net;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace PiOps.Web.Security;

/// <summary>
/// The safe default, as Hangfire's dashboard does: only requests from this machine are served. Others get 403 and a
/// page that says how to open access. Health probes and metrics stay reachable (read-only, no secrets) so kubelet
/// and Prometheus can use them.
/// </summary>
/// With sign-in configured (section Auth), every address is served and sign-in decides. Without it, the Host must
/// also be a loopback name or an address (or one of AllowedHosts when set), since a page of another site whose name
/// is made to resolve to 127.0.0.1 (DNS rebinding) would otherwise be served as this machine.
public sealed class LoopbackOnlyMiddleware(RequestDelegate next, IOptions<AccessOptions> options, IOptions<AuthOptions> auth, ILogger<LoopbackOnlyMiddleware> log,
    IOptions<HostFilteringOptions>? hosts = null)
{
    private static readonly PathString[] Open = ["/health", "/metrics"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (auth.Value.Enabled || options.Value.AllowRemote || Open.Any(p => context.Request.Path.StartsWithSegments(p)))
        {
            await next(context);
            return;
        }

        if (!IsLoopbackName(context.Request.Host) && !HostsConfigured)
        {
            log.LogWarning("Refused {Method} {Path} for Host {Host}: without sign-in only localhost names and addresses are served",
                context.Request.Method, context.Request.Path, context.Request.Host.Value);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"This dashboard has no sign-in, so it answers only to localhost or an IP address, not to \"{context.Request.Host.Host}\" " +
                "(a name of another site could be made to point here). Open http://localhost:PORT/, or list your names in AllowedHosts, or turn sign-in on.");
            return;
        }

        if (IsLocal(context.Connection))
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

    // AllowedHosts other than "*": the host filtering middleware already refuses every other name.
    private bool HostsConfigured => hosts?.Value.AllowedHosts is { Count: > 0 } list && !list.Contains("*");

    private static bool IsLoopbackName(HostString host) =>
        !host.HasValue // HTTP/1.0 and in-memory test requests carry none
        || host.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) // RFC 6761: always loopback
        || IPAddress.TryParse(host.Host.Trim('[', ']'), out _); // an address is no name that could be rebound

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
