using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

public sealed partial class KubeApiDouble
{
    /// <summary>
    /// PATCH of the status subresource, as a controller writes status (and as `kubectl patch --subresource=status`
    /// does): only status changes. The status strategies put the stored spec back (PrepareForUpdate in
    /// pkg/registry/batch/cronjob/strategy.go and pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go:
    /// `newObj.Spec = oldObj.Spec`), and metadata stays as stored; the object gets a new resourceVersion, its generation
    /// does not move. A resourceVersion in the patch is a precondition, as for the main resource.
    /// </summary>
    private async Task PatchStatusAsync(HttpContext ctx, ApiKind kind, string ns, string name)
    {
        string type = ctx.Request.ContentType?.Split(';')[0].Trim() ?? "";
        if (type is not ("application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            await WriteStatus(ctx, 415, "UnsupportedMediaType", $"the test double supports merge and strategic merge patches, not {type}");
            return;
        }

        var patch = (await JsonNode.ParseAsync(ctx.Request.Body))!;
        await RespondLocked(ctx, () =>
        {
            if (_store[kind.Plural].GetValueOrDefault(Key(ns, name)) is not { } obj)
            {
                return NotFound(kind, name);
            }

            var patched = Merge(obj.DeepClone(), patch, strategic: type.StartsWith("application/strategic", StringComparison.Ordinal))!.AsObject();
            if (patched["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } wanted
                && wanted != obj["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                return Conflict(kind, name);
            }

            var updated = obj.DeepClone().AsObject();
            updated["status"] = patched["status"]?.DeepClone();
            Put(kind.Plural, updated, "MODIFIED");
            return (200, updated.DeepClone());
        });
    }
}
