using System.Text.Json.Nodes;

namespace PiOps.Tests.Kubernetes;

/// <summary>Pods with more than one container (a sidecar), and pods/log's choice of container, as the API server makes it.</summary>
public sealed partial class KubeApiDouble
{
    /// <summary>
    /// Gives a pod a sidecar container (Istio's, Linkerd's, a log shipper's), before its own container when
    /// <paramref name="first"/>, as a mutating webhook injects it. Its log holds what WriteLog writes for it by name; the
    /// pod's other lines are the container's the pod was made with.
    /// </summary>
    public void AddSidecar(string pod, string name, bool first = true, string ns = Namespace) => Mutate("pods", pod, p =>
    {
        var container = new JsonObject { ["name"] = name, ["image"] = $"{name}:1.0" };
        var status = new JsonObject
        {
            ["name"] = name, ["image"] = $"{name}:1.0", ["imageID"] = "", ["ready"] = true, ["started"] = true, ["restartCount"] = 0,
            ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Now() } },
        };
        var containers = p["spec"]!["containers"]!.AsArray();
        var statuses = p["status"]!["containerStatuses"]!.AsArray();
        if (first)
        {
            containers.Insert(0, container);
            statuses.Insert(0, status);
        }
        else
        {
            containers.Add(container);
            statuses.Add(status);
        }
    }, ns);

    /// <summary>
    /// pkg/registry/core/pod/strategy.go (LogLocation): without container=, the only container, else 400 naming them;
    /// a container the pod lacks is 400 too. Returns the container read, or the 400's message.
    /// </summary>
    private (string? Container, string? Error) LogContainer(string ns, string pod, string? asked)
    {
        List<string> names;
        lock (_gate)
        {
            names = _store["pods"].GetValueOrDefault(Key(ns, pod))?["spec"]?["containers"]?.AsArray()
                .Select(c => c!["name"]!.GetValue<string>()).ToList() ?? [];
        }

        if (string.IsNullOrEmpty(asked))
        {
            return names.Count switch
            {
                1 => (names[0], null),
                0 => (null, $"a container name must be specified for pod {pod}"),
                _ => (null, $"a container name must be specified for pod {pod}, choose one of: [{string.Join(' ', names)}]"),
            };
        }

        return names.Contains(asked) ? (asked, null) : (null, $"container {asked} is not valid for pod {pod}");
    }

    /// <summary>The container whose lines <see cref="WriteLog"/> writes: the one the pod was made with, not a sidecar.</summary>
    private bool IsSidecar(string ns, string pod, string container)
    {
        lock (_gate)
        {
            var labels = _store["pods"].GetValueOrDefault(Key(ns, pod))?["spec"]?["containers"]?.AsArray();
            return labels?.Count > 1 && container != "pi-container" && labels.Any(c => c!["name"]!.GetValue<string>() == "pi-container");
        }
    }
}
