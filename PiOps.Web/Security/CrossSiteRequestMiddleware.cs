using Microsoft.Net.Http.Headers;

namespace PiOps.Web.Security;

/// <summary>
/// Lets no page of another site act through an operator's browser: a request that changes something, and any request
/// to the hub or the circuit, is refused when the browser says it comes from another origin (Sec-Fetch-Site, else
/// Origin against Host). Another port of the same host counts as another origin: SameSite=Lax cookies would still go
/// there. Scripts and producers send neither header and are not concerned. The API also takes only JSON bodies, which
/// an HTML form cannot send.
/// </summary>
public sealed class CrossSiteRequestMiddleware(RequestDelegate next, ILogger<CrossSiteRequestMiddleware> log)
{
    private static readonly PathString[] Live = ["/hubs", "/_blazor"];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        bool changes = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method));
        bool live = Live.Any(p => request.Path.StartsWithSegments(p));
        if ((changes || live) && CrossOrigin(request) is { } from)
        {
            log.LogWarning("Refused {Method} {Path} from another site ({From})", request.Method, request.Path, from);
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"Refused: this request came from a page of another site ({from}). The dashboard acts only on requests from its own pages; " +
                "scripts and producers call the API directly, without a browser.");
            return;
        }

        if (changes && request.Path.StartsWithSegments("/api") && !IsJsonOrEmpty(request))
        {
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"The API takes JSON bodies only (got Content-Type \"{request.ContentType}\"): send Content-Type: application/json. Nothing was done.");
            return;
        }

        await next(context);
    }

    /// <summary>Where a browser says the request comes from when that is not this origin; null when it is, or when no browser says.</summary>
    public static string? CrossOrigin(HttpRequest request)
    {
        string? site = request.Headers["Sec-Fetch-Site"];
        if (!string.IsNullOrEmpty(site))
        {
            // "none": typed in the address bar or a bookmark, so the user's own doing.
            return site is "same-origin" or "none" ? null : $"Sec-Fetch-Site: {site}, Origin: {(string?)request.Headers.Origin ?? "none"}";
        }

        string? origin = request.Headers.Origin;
        if (string.IsNullOrEmpty(origin))
        {
            return null;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return "Origin: " + origin; // "null": a sandboxed frame, a file, a redirect across sites
        }

        // Host and port, not the scheme: a proxy that ends TLS may not say so, and the port already tells origins apart.
        int port = request.Host.Port ?? (uri.Scheme == Uri.UriSchemeHttps ? 443 : 80);
        return string.Equals(uri.Host, request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && uri.Port == port ? null : "Origin: " + origin;
    }

    private static bool IsJsonOrEmpty(HttpRequest request)
    {
        if (string.IsNullOrEmpty(request.ContentType))
        {
            return request.ContentLength is null or 0 && !request.Headers.TransferEncoding.Any(v => v?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true);
        }

        return MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
               && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                   || type.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static Task RefuseAsync(HttpContext context, int status, string sentence)
    {
        context.Response.StatusCode = status;
        return context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/hubs")
            ? context.Response.WriteAsJsonAsync(new { title = sentence, status }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json")
            : context.Response.WriteAsync(sentence);
    }
}
