using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace PiOps.Web.Kubernetes;

/// <summary>The API's refusals, as sentences an operator can act on.</summary>
public static class ApiErrors
{
    /// <summary>A failed action: <paramref name="verb"/> on <paramref name="resource"/> (as in the Role), of <paramref name="kind"/> NAME.</summary>
    /// <param name="by">Who the call was made for: a 403 naming them is their RBAC, not the dashboard's Role.</param>
    public static string ForAction(Exception ex, string verb, string resource, string kind, string? name, KubernetesTarget target, Workloads.Actor? by = null)
    {
        if (ex is not HttpOperationException http || http.Response is null)
        {
            return Unreachable(ex, target) + " Nothing was changed.";
        }

        var status = Status(http);
        string api = string.IsNullOrWhiteSpace(status?.Message) ? "" : $" The API said: {status.Message}";
        return http.Response.StatusCode switch
        {
            // Admission (a ResourceQuota, PodSecurity, a terminating namespace) also answers 403, without the
            // authoriser's "cannot VERB resource".
            HttpStatusCode.Forbidden when status?.Message is { Length: > 0 } said && !said.Contains($"cannot {verb} resource", StringComparison.Ordinal) =>
                $"The API refused to {verb} the {kind}{(name is null ? "" : " " + name)}: {said.TrimEnd('.')}.",
            // Impersonating: the signed-in user's groups lack it, not the dashboard's Role.
            HttpStatusCode.Forbidden when by is not null && status?.Message?.Contains($"User \"{by.Name}\"", StringComparison.Ordinal) == true =>
                $"The cluster does not allow {by.Name} (group {Impersonation.Group(by)}) to {verb} {resource} in namespace {target.Namespace}: the dashboard acts as the signed-in user, so the cluster's RoleBindings for that group decide.{api}",
            HttpStatusCode.Forbidden =>
                $"The dashboard is not allowed to {verb} {resource} in namespace {target.Namespace}: its Role needs the verb \"{verb}\" on \"{resource}\" (PiOps.Web/Kubernetes/KubernetesPermissions.cs, the chart's dashboard Role).{api}",
            HttpStatusCode.Conflict when status?.Reason == "AlreadyExists" =>
                $"A {kind} named {name} already exists: {(kind == "Job" ? "re-run it" : "edit it")}, delete it first, or choose another name.",
            HttpStatusCode.Conflict => $"The {kind} {name} changed while this was done; try again.{api}",
            HttpStatusCode.UnprocessableEntity =>
                $"The API refused the {kind}{(name is null ? "" : " " + name)}: {FieldMessages(status)}. Nothing was created or changed.",
            HttpStatusCode.NotFound => $"There is no {kind} named {name}: it may have been deleted already.",
            HttpStatusCode.Unauthorized => $"The Kubernetes API at {target.Config.Host} did not accept the dashboard's credentials (401); check the kubeconfig or the service account token.",
            _ => $"The Kubernetes API answered {(int)http.Response.StatusCode} {http.Response.ReasonPhrase} to {verb} {resource}.{api}",
        };
    }

    /// <summary>" The API said: MESSAGE", or empty when the Status has no message.</summary>
    public static string Said(HttpOperationException ex) =>
        Status(ex)?.Message is { Length: > 0 } message ? $" The API said: {message}" : "";

    /// <summary>The Status reason the API gave (AlreadyExists, Conflict, ...), if any.</summary>
    public static string? Reason(HttpOperationException ex) => Status(ex)?.Reason;

    /// <summary>Why a list or watch (<paramref name="verb"/>) failed, for the banner.</summary>
    public static string ForRead(Exception ex, string resource, KubernetesTarget target, string verb = "list")
    {
        if (ex is HttpOperationException { Response: { } response } http)
        {
            var status = Status(http);
            string retry = ReflectorBackoff.RetryAfter(ex) is { } after ? $" It asked to retry after {after.TotalSeconds:F0} s." : "";
            return response.StatusCode switch
            {
                HttpStatusCode.Forbidden => $"The dashboard may not {(verb == "watch" ? "watch" : "list and watch")} {resource} in namespace {target.Namespace}: its Role needs \"list\" and \"watch\" on \"{resource}\".",
                HttpStatusCode.Unauthorized => $"The Kubernetes API at {target.Config.Host} did not accept the dashboard's credentials (401).",
                HttpStatusCode.TooManyRequests => $"The Kubernetes API is too busy to {verb} {resource} (429, API priority and fairness); the dashboard retries with back-off.{retry}",
                _ => $"The Kubernetes API answered {(int)response.StatusCode} {response.ReasonPhrase} when {(verb == "watch" ? "watching" : "listing")} {resource}{(string.IsNullOrWhiteSpace(status?.Message) ? "" : ": " + status.Message.TrimEnd('.'))}.",
            };
        }

        return Unreachable(ex, target);
    }

    private static string Unreachable(Exception ex, KubernetesTarget target) =>
        $"The Kubernetes API at {target.Config.Host} cannot be reached ({(ex.InnerException ?? ex).Message}).";

    private static string FieldMessages(V1Status? status)
    {
        var causes = status?.Details?.Causes?.Where(c => !string.IsNullOrWhiteSpace(c.Message)).ToList();
        if (causes is { Count: > 0 })
        {
            return string.Join("; ", causes.Select(c => string.IsNullOrEmpty(c.Field) ? c.Message : $"{c.Field}: {c.Message}"));
        }

        return status?.Message ?? "it is not valid";
    }

    private static V1Status? Status(HttpOperationException http)
    {
        try
        {
            return string.IsNullOrWhiteSpace(http.Response?.Content) ? null : KubernetesJson.Deserialize<V1Status>(http.Response.Content);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
