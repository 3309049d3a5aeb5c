using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace PiOps.Tests.Kubernetes;

// Field validation as the API server does it for a create or an update (KEP-2885; apiserver/pkg/endpoints/handlers
// create.go and update.go): the body is decoded into the kind's type, and a field the type does not have is unknown.
// With fieldValidation=Strict the request is refused, 400 BadRequest, `Job in version "v1" cannot be handled as a Job:
// strict decoding error: unknown field "spec.foo"`; with Warn (the server's default, and what the C# client gets, as it
// sends no fieldValidation) the field is dropped and a `Warning: 299 - "unknown field \"spec.foo\""` header says so;
// with Ignore it is dropped silently. The Go types are stood for by the client library's models, generated from the
// same OpenAPI. DroppedFields keeps what was dropped, so a test can require that PiOps sends nothing the API drops.
public sealed partial class KubeApiDouble
{
    private static readonly Dictionary<string, Func<string, string>> RoundTrips = new()
    {
        ["jobs"] = json => KubernetesJson.Serialize(KubernetesJson.Deserialize<V1Job>(json)),
        ["cronjobs"] = json => KubernetesJson.Serialize(KubernetesJson.Deserialize<V1CronJob>(json)),
        ["horizontalpodautoscalers"] = json => KubernetesJson.Serialize(KubernetesJson.Deserialize<V2HorizontalPodAutoscaler>(json)),
        ["deployments"] = json => KubernetesJson.Serialize(KubernetesJson.Deserialize<V1Deployment>(json)),
        ["pods"] = json => KubernetesJson.Serialize(KubernetesJson.Deserialize<V1Pod>(json)),
    };

    private readonly ConcurrentQueue<string> _dropped = new();

    /// <summary>Every unknown field a create or update sent and the double dropped, as "POST jobs: spec.foo".</summary>
    public IReadOnlyCollection<string> DroppedFields => _dropped;

    /// <summary>
    /// Applies field validation to a create or update body of a kind with a model: the 400 to answer under Strict (or
    /// for a body that does not decode at all); else null, with the unknown fields removed from the body.
    /// </summary>
    private (int, JsonNode)? ValidateFields(HttpContext ctx, ApiKind kind, JsonObject body)
    {
        if (!RoundTrips.TryGetValue(kind.Plural, out var roundTrip))
        {
            return null;
        }

        string cannot = $"{kind.Kind} in version \"{kind.Version}\" cannot be handled as a {kind.Kind}";
        JsonNode? known;
        try
        {
            known = JsonNode.Parse(roundTrip(body.ToJsonString()));
        }
        catch (JsonException ex)
        {
            return (400, StatusObject(400, "BadRequest", $"{cannot}: {ex.Message}"));
        }

        var unknown = new List<(string Path, Action Remove)>();
        Unknown(body, known, "", unknown);
        if (unknown.Count == 0)
        {
            return null;
        }

        string mode = ctx.Request.Query["fieldValidation"].ToString();
        if (mode == "Strict")
        {
            return (400, StatusObject(400, "BadRequest",
                $"{cannot}: strict decoding error: {string.Join(", ", unknown.Select(u => $"unknown field \"{u.Path}\""))}"));
        }

        foreach (var (path, remove) in unknown)
        {
            remove();
            _dropped.Enqueue($"{ctx.Request.Method} {kind.Plural}: {path}");
            if (mode != "Ignore")
            {
                ctx.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{path}\\\"\"");
            }
        }

        return null;
    }

    // Fields of the body that the model's round trip lost; null values are no field at all.
    private static void Unknown(JsonNode? given, JsonNode? known, string path, List<(string, Action)> found)
    {
        switch (given)
        {
            case JsonObject o:
                var k = known as JsonObject;
                foreach (var (key, value) in o.ToList())
                {
                    string p = path.Length == 0 ? key : $"{path}.{key}";
                    if (value is null)
                    {
                        continue;
                    }

                    if (k is null || !k.ContainsKey(key))
                    {
                        found.Add((p, () => o.Remove(key)));
                        continue;
                    }

                    Unknown(value, k[key], p, found);
                }

                break;
            case JsonArray a:
                var ka = known as JsonArray;
                for (int i = 0; i < a.Count; i++)
                {
                    Unknown(a[i], ka is not null && i < ka.Count ? ka[i] : null, $"{path}[{i}]", found);
                }

                break;
        }
    }
}
