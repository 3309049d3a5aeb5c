using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>A namespace's pod logs as `kubectl logs -f` reads them: the container chosen as kubectl chooses it, resumption from the last line's own time.</summary>
public sealed partial class KubernetesRuntime
{
    /// <summary>
    /// kubectl logs -f: the pod's last lines, then each new one. When the API server ends the stream (a restart, a
    /// dropped connection), it is opened again with sinceTime = the last line's own timestamp (the node's clock, never
    /// the dashboard's), and lines at or before it are skipped, so nothing is shown twice or lost whatever the clocks'
    /// skew; a pod that is gone ends it with a sentence.
    /// </summary>
    public IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, CancellationToken cancellationToken) =>
        pod.Namespace is null || pod.Namespace == _target.Namespace
            ? FollowAsync(pod.Name, pod.Container, tailLines, cancellationToken)
            : throw new LogStreamException($"Pod {pod.Name} is in namespace {pod.Namespace}, not in {_target.Namespace}, whose pods this runtime reads.");

    // container: the one the operator picked, or null for the one kubectl would choose (looked up at each request,
    // since the cache may learn the pod after the stream starts).
    private async IAsyncEnumerable<LogLine> FollowAsync(string pod, string? container, int tailLines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        DateTimeOffset? last = null;
        int failures = 0;
        int restarts = RestartsOf(pod);
        if (restarts > 0)
        {
            // A restarted pod: what its previous container wrote first (kubectl logs --previous), then the current one.
            var previous = await ReadPreviousLogAsync(pod, container ?? ContainerOf(pod), tailLines, cancellationToken);
            if (previous.Count > 0)
            {
                yield return Marker(pod, previous[0].At, $"previous container (restart {restarts}), as kubectl logs --previous shows it");
                foreach (var line in previous)
                {
                    yield return line;
                }

                yield return Marker(pod, previous[^1].At, "current container");
            }
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var lines = LogChannel.Create();
            var reading = ReadLogAsync(pod, container ?? ContainerOf(pod), last is null ? tailLines : null, last, lines.Writer, cancellationToken);
            await foreach (var line in lines.Reader.ReadAllAsync(CancellationToken.None))
            {
                // A resumed stream starts at the last line's second: skip what was already shown.
                if (last is { } seen && line.At <= seen)
                {
                    continue;
                }

                if (RestartsOf(pod) is var now && now > restarts)
                {
                    // The watch saw the restart after the old stream ended: mark it before the new container's lines.
                    restarts = now;
                    yield return Marker(pod, line.At, $"container restarted (restart {now})");
                }

                last = line.At;
                failures = 0;
                yield return line;
            }

            string? ended = await reading;
            if (ended is not null)
            {
                throw new LogStreamException(ended);
            }

            // The stream ended: the container stopped, the API server closed it, or the connection broke.
            if (RestartsOf(pod) is var restarted && restarted > restarts)
            {
                restarts = restarted;
                yield return Marker(pod, _time.GetUtcNow(), $"container restarted (restart {restarted})");
            }

            if (PhaseOf(pod) is { } phase && phase is "Succeeded" or "Failed")
            {
                // A completed pod writes nothing more: its log stays readable above, and the stream is done.
                yield return Marker(pod, _time.GetUtcNow(), $"pod {phase.ToLowerInvariant()}: no more lines");
                yield break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * (1 << Math.Min(failures++, 5)))), cancellationToken)
                .ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The container whose log is read, chosen as kubectl logs chooses it: the kubectl.kubernetes.io/default-container
    /// annotation when it names a container of the pod, else the only container; with several (a sidecar of Istio,
    /// Linkerd, a log shipper), the worker's container by name, else the first, as kubectl does. Null when the pod is
    /// not known yet: the API then picks the only container or answers 400.
    /// </summary>
    public string? ContainerOf(string pod)
    {
        var spec = _cache.Pods.Get(pod);
        var containers = spec?.Spec?.Containers?.Select(c => c.Name).ToList();
        if (containers is not { Count: > 0 })
        {
            return null;
        }

        if (spec!.Metadata?.Annotations?.TryGetValue("kubectl.kubernetes.io/default-container", out var annotated) == true && containers.Contains(annotated))
        {
            return annotated;
        }

        return containers.Count == 1 ? containers[0] : containers.Contains(Manifests.ContainerName) ? Manifests.ContainerName : containers[0];
    }

    private static string? TryStatusMessage(string body)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(body)?.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static LogLine Marker(string pod, DateTimeOffset at, string text) => new(at, pod, false, $"── {text} ──");

    private int RestartsOf(string pod) =>
        _cache.Pods.Items.FirstOrDefault(p => p.Metadata.Name == pod)?.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    private string? PhaseOf(string pod) => _cache.Pods.Items.FirstOrDefault(p => p.Metadata.Name == pod)?.Status?.Phase;

    // The previous container's log (no follow); empty when the API has none (400: no terminated container to read).
    private async Task<IReadOnlyList<LogLine>> ReadPreviousLogAsync(string pod, string? container, int tailLines, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(pod, _target.Namespace, container: container,
                previous: true, tailLines: tailLines, timestamps: true, cancellationToken: cancellationToken);
            using var reader = new StreamReader(response.Body);
            var lines = new List<LogLine>();
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                lines.Add(LogLineOf(pod, line));
            }

            return lines;
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            _log.LogDebug("No previous log of {Pod}: {Message}", pod, ex.Message);
            return [];
        }
    }

    // One request of pods/log with follow; returns a sentence when the pod cannot be read any more, else null.
    private async Task<string?> ReadLogAsync(string pod, string? container, int? tailLines, DateTimeOffset? since,
        System.Threading.Channels.ChannelWriter<LogLine> lines, CancellationToken cancellationToken)
    {
        try
        {
            // Resumed from the last line's own time (the node's clock), never from the dashboard's: see PodLogRequest.
            using IDisposable response = since is { } s && _client is k8s.Kubernetes client
                ? await PodLogRequest.FollowSinceAsync(client, _target.Namespace, pod, container, s, cancellationToken)
                : await _client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(pod, _target.Namespace, container: container,
                    follow: true, tailLines: tailLines, timestamps: true, cancellationToken: cancellationToken);
            var body = response is HttpResponseMessage message
                ? await message.Content.ReadAsStreamAsync(cancellationToken)
                : ((HttpOperationResponse<Stream>)response).Body;
            using var reader = new StreamReader(body);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                lines.TryWrite(LogLineOf(pod, line));
            }

            return null;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return $"The pod {pod} is gone.";
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            return $"The dashboard may not read logs here: its Role needs get on pods/log in {_target.Namespace}.";
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.BadRequest)
        {
            // Asking again gets the same answer (e.g. a pod with several containers and none named): say it, once.
            string message = ex.Response.Content is { Length: > 0 } body && TryStatusMessage(body) is { } m ? m : ex.Message;
            return $"The API refused to read the log of pod {pod}: {message.TrimEnd('.')}.";
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            _log.LogDebug("The log stream of {Pod} broke ({Message}); opening it again", pod, ex.Message);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        finally
        {
            lines.TryComplete();
        }
    }

    // A line of pods/log with timestamps=true: "RFC3339-time text"; a line without one is stamped now.
    private LogLine LogLineOf(string pod, string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? new LogLine(at, pod, false, line[(space + 1)..])
            : new LogLine(_time.GetUtcNow(), pod, false, line);
    }
}
