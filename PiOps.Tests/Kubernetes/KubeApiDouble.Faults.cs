using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

/// <summary>Watch requests refused while lists still work, as a real API server can refuse them.</summary>
public sealed partial class KubeApiDouble
{
    private volatile WatchFault? _watchFault;

    private sealed record WatchFault(int Code, int? RetryAfterSeconds);

    /// <summary>
    /// From now on every new watch is answered <paramref name="code"/> while lists work: 403 (a Role with list but not
    /// watch), 429 with Retry-After (API priority and fairness), or 500.
    /// </summary>
    public void FailWatches(int code, int? retryAfterSeconds = null) => _watchFault = new WatchFault(code, retryAfterSeconds);

    public void StopFailingWatches() => _watchFault = null;

    /// <summary>Answers a watch with the configured failure, in the API server's own shape; false when there is none.</summary>
    private async Task<bool> FailWatchAsync(HttpContext ctx, string verb, ApiKind kind, string ns)
    {
        if (verb != "watch" || _watchFault is not { } fault)
        {
            return false;
        }

        switch (fault.Code)
        {
            case 403:
                // apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage).
                await WriteStatus(ctx, 403, "Forbidden",
                    $"{kind.Resource} is forbidden: User \"{ServiceAccount}\" cannot watch resource \"{kind.Plural}\" in API group \"{kind.Group}\" in the namespace \"{ns}\"",
                    new JsonObject { ["group"] = kind.Group, ["kind"] = kind.Plural });
                break;
            case 429:
                // apiserver/pkg/server/filters/maxinflight.go (tooManyRequests), used by priority and fairness: plain text.
                ctx.Response.StatusCode = 429;
                ctx.Response.Headers.RetryAfter = (fault.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.Response.WriteAsync("Too many requests, please try again later.\n");
                break;
            default:
                // apimachinery/pkg/api/errors/errors.go (NewInternalError).
                await WriteStatus(ctx, fault.Code, "InternalError", "Internal error occurred: etcdserver: request timed out",
                    new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = "etcdserver: request timed out" }) });
                break;
        }

        return true;
    }
}
