using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Logs;
using PiOps.Web.Queue;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// The workload model on the Kubernetes API. Reads come from the shared <see cref="ClusterCache"/>; the primitive calls
/// are the ones kubectl makes, each naming its RBAC rule so a refusal can say what is missing. What an operator's action
/// checks and refuses before calling is <see cref="WorkloadActions"/>'.
/// </summary>
public sealed class KubernetesRuntime : IWorkloadBackend, IPodLogSource, IDisposable
{
    /// <summary>The annotation naming the signed-in user who asked for an object.</summary>
    public const string RequestedBy = "piops.io/requested-by";

    private readonly ClusterCache _cache;
    private readonly IKubernetes _client;
    private readonly KubernetesTarget _target;
    private readonly KubernetesOptions _o;
    private readonly IQueueState _queue;
    private readonly TimeProvider _time;
    private readonly ILogger<KubernetesRuntime> _log;
    private readonly PodSettings _pod;
    private readonly Subscribers<WorkloadSnapshot> _subscribers = new();
    private ClusterState? _publishedState;
    private readonly IDisposable _subscription;
    private readonly IDisposable _queueSubscription;
    private readonly PodDeletionCosts _costs;
    private volatile HashSet<string> _busy = new(StringComparer.Ordinal);
    private readonly AutoscalerHistory _history;
    private volatile WorkloadSnapshot _current = WorkloadSnapshot.Empty;

    public KubernetesRuntime(ClusterCache cache, IKubernetes client, KubernetesTarget target, IOptions<KubernetesOptions> options,
        IOptions<QueueOptions> queueOptions, IOptions<Configuration.DashboardOptions> dashboard, IQueueState queue, TimeProvider time,
        ILogger<KubernetesRuntime> log)
    {
        _history = new AutoscalerHistory(dashboard.Value.History);
        _cache = cache;
        _client = client;
        _target = target;
        _o = options.Value;
        _queue = queue;
        _time = time;
        _log = log;
        var (key, value) = _o.ManagedLabelPair;
        _pod = new PodSettings(_o.WorkerImage, _o.RedisHost, _o.RedisPort.ToString(CultureInfo.InvariantCulture), queueOptions.Value.QueueName, key, value);
        _costs = new PodDeletionCosts(client, target, log);
        Metrics = new PodMetricsCache(client, target, () => _cache.Deployments.Get(_o.WorkersDeployment)?.Spec?.Selector, _o.MetricsInterval, time, log, PublishAsync);
        _current = Build();
        _subscription = cache.Subscribe(_ => PublishAsync());
        _queueSubscription = queue.Subscribe(OnQueueAsync);
    }

    // The queue's samples are the autoscaler chart's clock (a point a second, as the local runtime's), so the chart
    // moves while the cluster is quiet. Heartbeats say which workers are busy (a worker's host is its pod's name): a
    // change re-ranks the pods and updates their deletion costs. Neither a new point nor a change: nothing to do.
    private Task OnQueueAsync(QueueSnapshot snapshot)
    {
        var workers = _current.Workers;
        bool point = _history.Record(_time.GetUtcNow(), workers.Pods.Count, workers.Desired, snapshot.RedisAvailable ? snapshot.Depth : 0);
        var busy = BusyPods(snapshot);
        if (busy.SetEquals(_busy) && !point)
        {
            return Task.CompletedTask;
        }

        _busy = busy;
        return PublishAsync();
    }

    private static HashSet<string> BusyPods(QueueSnapshot snapshot) =>
        snapshot.Workers.Where(w => !w.Lost && w.CurrentTask is not null).Select(w => w.Host).ToHashSet(StringComparer.Ordinal);

    /// <summary>The workers' CPU and memory from metrics.k8s.io; started and stopped with the namespace's cache.</summary>
    public PodMetricsCache Metrics { get; }

    public string Description => _target.Description;

    public bool IsLocal => false;

    public WorkloadSnapshot Current => _current;

    public string? Namespace => _target.Namespace;

    public PodSettings Pod => _pod;

    public (int Max, string Setting) ReplicaCap => (_o.MaxReplicas, "Kubernetes:MaxReplicas");

    public KubernetesTarget Target => _target;

    public ClusterState State => _cache.State;

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    /// <summary>The Job a spec becomes on this cluster: what creating it sends and the YAML preview shows.</summary>
    public V1Job JobFor(JobSpec spec) => Manifests.Job(spec, _pod);

    public async Task ScaleAsync(int replicas)
    {
        // kubectl scale: a merge patch of the scale subresource, so only the replica count changes.
        await CallAsync("patch", "deployments/scale", "Deployment", _o.WorkersDeployment, () =>
            _client.AppsV1.PatchNamespacedDeploymentScaleWithHttpMessagesAsync(
                new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), _o.WorkersDeployment, _target.Namespace));
    }

    public Task CreateJobAsync(V1Job job)
    {
        Annotate(job.Metadata ??= new V1ObjectMeta());
        return CallAsync("create", "jobs", "Job", job.Metadata.Name, () => _client.BatchV1.CreateNamespacedJobWithHttpMessagesAsync(job, _target.Namespace));
    }

    // Who asked, as the audit trail names them: on every object PiOps creates, so the cluster shows it too.
    private static void Annotate(V1ObjectMeta metadata)
    {
        if (Security.ActingUser.Value is { } user)
        {
            metadata.Annotations ??= new Dictionary<string, string>();
            metadata.Annotations[RequestedBy] = user.Name;
        }
    }

    public Task DeleteJobAsync(string name) =>
        // Background, as kubectl does: the Job goes now and the garbage collector removes its pods (the API's default
        // for Jobs is to orphan them).
        CallAsync("delete", "jobs", "Job", name, () =>
            _client.BatchV1.DeleteNamespacedJobWithHttpMessagesAsync(name, _target.Namespace, propagationPolicy: "Background"));

    public TimeSpan JobDeletionTimeout => TimeSpan.FromSeconds(60);

    public async Task<V1Job?> GetJobAsync(string name)
    {
        try
        {
            using var response = await _client.BatchV1.ReadNamespacedJobWithHttpMessagesAsync(name, _target.Namespace);
            return response.Body;
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            throw new OperatorActionException(ApiErrors.ForAction(ex, "get", "jobs", "Job", name, _target));
        }
    }

    // The same create with dryRun=All: the API server authorises, validates and admits it (quota, webhooks with
    // sideEffects None) and stores nothing (apiserver/pkg/registry/generic/registry/dryrun.go). The old Job still holds
    // the name, so AlreadyExists is the answer when everything before storage passed.
    public async Task<string?> CheckCreateJobAsync(V1Job job)
    {
        string name = job.Metadata.Name;
        Annotate(job.Metadata ??= new V1ObjectMeta());
        try
        {
            using var _ = await _client.BatchV1.CreateNamespacedJobWithHttpMessagesAsync(job, _target.Namespace, dryRun: "All");
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.Conflict && ApiErrors.Reason(ex) == "AlreadyExists")
        {
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            return $"the API would not create it again (checked with a dry run). {ApiErrors.ForAction(ex, "create", "jobs", "Job", name, _target)}";
        }

        return null;
    }

    public Task CreateCronJobAsync(CronJobSpec spec)
    {
        var cron = Manifests.CronJob(spec, _pod);
        Annotate(cron.Metadata);
        return CallAsync("create", "cronjobs", "CronJob", spec.Name, () => _client.BatchV1.CreateNamespacedCronJobWithHttpMessagesAsync(cron, _target.Namespace));
    }

    public Task UpdateCronJobAsync(CronJobSpec spec) => PatchCronJobAsync(spec.Name, Manifests.CronJobPatch(spec));

    public Task SuspendCronJobAsync(string name, bool suspend) =>
        PatchCronJobAsync(name, suspend ? "{\"spec\":{\"suspend\":true}}" : "{\"spec\":{\"suspend\":false}}");

    private Task PatchCronJobAsync(string name, string mergePatch) =>
        CallAsync("patch", "cronjobs", "CronJob", name, () =>
            _client.BatchV1.PatchNamespacedCronJobWithHttpMessagesAsync(new V1Patch(mergePatch, V1Patch.PatchType.MergePatch), name, _target.Namespace));

    public Task DeleteCronJobAsync(string name) =>
        // Its Jobs, and their pods, go with it.
        CallAsync("delete", "cronjobs", "CronJob", name, () =>
            _client.BatchV1.DeleteNamespacedCronJobWithHttpMessagesAsync(name, _target.Namespace, propagationPolicy: "Background"));

    public async Task RunCronJobAsync(string name, string jobName)
    {
        var cron = await CallAsync("get", "cronjobs", "CronJob", name, () => _client.BatchV1.ReadNamespacedCronJobWithHttpMessagesAsync(name, _target.Namespace));
        await CreateJobAsync(Manifests.JobFromCronJob(cron, jobName));
    }

    public async Task SetAutoscalerAsync(AutoscalerSpec spec)
    {
        if (WorkersScaledObject() is { } scaled)
        {
            await SetScaledObjectAsync(scaled, spec);
            return;
        }

        var existing = WorkersAutoscaler();
        if (!spec.Enabled)
        {
            // Off: the Deployment keeps its replicas from now on (kubectl delete hpa).
            if (existing is not null)
            {
                await CallAsync("delete", "horizontalpodautoscalers", "HorizontalPodAutoscaler", existing.Metadata.Name, () =>
                    _client.AutoscalingV2.DeleteNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(existing.Metadata.Name, _target.Namespace));
            }

            return;
        }

        if (existing is null)
        {
            var hpa = Manifests.Autoscaler(spec, _o.WorkersDeployment, _o.QueueMetricName, _pod);
            Annotate(hpa.Metadata);
            await CallAsync("create", "horizontalpodautoscalers", "HorizontalPodAutoscaler", hpa.Metadata.Name, () =>
                _client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(hpa, _target.Namespace));
        }
        else
        {
            await CallAsync("patch", "horizontalpodautoscalers", "HorizontalPodAutoscaler", existing.Metadata.Name, () =>
                _client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(
                    new V1Patch(Manifests.OnVersion(Manifests.AutoscalerPatch(spec, _o.QueueMetricName), spec.ResourceVersion), V1Patch.PatchType.MergePatch), existing.Metadata.Name, _target.Namespace));
        }
    }

    /// <summary>
    /// KEDA owns the HPA it made from a ScaledObject and puts back whatever is edited there, so with KEDA the edits go
    /// to the ScaledObject (a merge patch), and turning the autoscaler off deletes the ScaledObject (KEDA then removes its
    /// HPA and the Deployment keeps its replicas).
    /// </summary>
    private async Task SetScaledObjectAsync(ScaledObject scaled, AutoscalerSpec spec)
    {
        string name = scaled.Metadata.Name;
        if (!spec.Enabled)
        {
            await CallAsync("delete", ScaledObject.Plural, "ScaledObject", name, () =>
                _client.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync(ScaledObject.Group, ScaledObject.Version, _target.Namespace, ScaledObject.Plural, name));
            return;
        }

        string patch = Manifests.OnVersion(scaled.PatchFor(spec, ($"{_o.RedisHost}:{_o.RedisPort}", _pod.QueueName)), spec.ResourceVersion);
        await CallAsync("patch", ScaledObject.Plural, "ScaledObject", name, () =>
            _client.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch),
                ScaledObject.Group, ScaledObject.Version, _target.Namespace, ScaledObject.Plural, name));
    }

    /// <summary>
    /// kubectl logs -f: the pod's last lines, then each new one. When the API server ends the stream (a restart, a
    /// dropped connection), it is opened again with sinceTime = the last line's own timestamp (the node's clock, never
    /// the dashboard's), and lines at or before it are skipped, so nothing is shown twice or lost whatever the clocks'
    /// skew; a pod that is gone ends it with a sentence.
    /// </summary>
    public IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, CancellationToken cancellationToken) =>
        pod.Namespace is null || pod.Namespace == _target.Namespace
            ? FollowAsync(pod.Name, tailLines, cancellationToken)
            : throw new LogStreamException($"Pod {pod.Name} is in namespace {pod.Namespace}, not in {_target.Namespace}, whose pods this runtime reads.");

    private async IAsyncEnumerable<LogLine> FollowAsync(string pod, int tailLines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        DateTimeOffset? last = null;
        int failures = 0;
        int restarts = RestartsOf(pod);
        if (restarts > 0)
        {
            // A restarted pod: what its previous container wrote first (kubectl logs --previous), then the current one.
            var previous = await ReadPreviousLogAsync(pod, tailLines, cancellationToken);
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
            var reading = ReadLogAsync(pod, last is null ? tailLines : null, last, lines.Writer, cancellationToken);
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
    private async Task<IReadOnlyList<LogLine>> ReadPreviousLogAsync(string pod, int tailLines, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(pod, _target.Namespace, container: ContainerOf(pod),
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
    private async Task<string?> ReadLogAsync(string pod, int? tailLines, DateTimeOffset? since,
        System.Threading.Channels.ChannelWriter<LogLine> lines, CancellationToken cancellationToken)
    {
        try
        {
            // Resumed from the last line's own time (the node's clock), never from the dashboard's: see PodLogRequest.
            using IDisposable response = since is { } s && _client is k8s.Kubernetes client
                ? await PodLogRequest.FollowSinceAsync(client, _target.Namespace, pod, ContainerOf(pod), s, cancellationToken)
                : await _client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(pod, _target.Namespace, container: ContainerOf(pod),
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

    private ScaledObject? WorkersScaledObject() => _cache.ScaledObjects.Items.FirstOrDefault(o => o.Targets(_o.WorkersDeployment));

    private V2HorizontalPodAutoscaler? WorkersAutoscaler() =>
        _cache.Autoscalers.Items.FirstOrDefault(h => h.Spec?.ScaleTargetRef is { Kind: "Deployment" } r && r.Name == _o.WorkersDeployment);

    private async Task<T> CallAsync<T>(string verb, string resource, string kind, string? name, Func<Task<HttpOperationResponse<T>>> call)
    {
        try
        {
            using var response = await call();
            return response.Body;
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == System.Net.HttpStatusCode.Conflict && ApiErrors.Reason(ex) == "Conflict" && name is not null)
        {
            // A stale resourceVersion (apimachinery errors.go NewConflict): someone else's change wins, the form reloads.
            throw OperatorActionException.StaleEdit(kind, name, ApiErrors.Said(ex));
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            throw new OperatorActionException(ApiErrors.ForAction(ex, verb, resource, kind, name, _target));
        }
    }

    private Task PublishAsync()
    {
        var snapshot = Build();
        var previous = _current;
        _current = snapshot;
        var busy = _busy;
        _costs.Keep([.. WorkerPods().Select(p => (p, busy.Contains(p.Metadata.Name)))]);
        // A watch event that changes nothing shown (a resourceVersion, a status heartbeat) is not news; the cluster's
        // state (synced, an error the banner shows) is, though it is not in the snapshot.
        var state = State;
        if (!snapshot.SameContent(previous) || state != _publishedState)
        {
            _publishedState = state;
            _subscribers.Publish(snapshot, _log);
        }

        return Task.CompletedTask;
    }

    private WorkloadSnapshot Build()
    {
        var now = _time.GetUtcNow();
        var pods = _cache.Pods.Items;
        var events = _cache.Events.Items;
        var about = events.Where(e => e.InvolvedObject is { Kind: not null, Name: not null }).ToLookup(e => (e.InvolvedObject.Kind, e.InvolvedObject.Name));
        var deployment = _cache.Deployments.Get(_o.WorkersDeployment);
        var workers = deployment is null
            ? new DeploymentView(_o.WorkersDeployment, 0, 0, 0, [])
            : new DeploymentView(_o.WorkersDeployment, deployment.Spec?.Replicas ?? 1, deployment.Status?.ReadyReplicas ?? 0, deployment.Status?.AvailableReplicas ?? 0,
                Ranked(WorkerPods(), about));
        var jobs = _cache.Jobs.Items;
        var jobViews = jobs.Select(j => JobView(j, pods, about)).OrderByDescending(j => j.StartTime).ToList();
        var cronJobs = _cache.CronJobs.Items.Select(c => new CronJobView(
                Manifests.ToCronJobSpec(c),
                c.Metadata.CreationTimestamp ?? now,
                c.Status?.LastScheduleTime,
                c.Status?.LastSuccessfulTime,
                jobs.Where(j => Controller(j)?.Uid == c.Metadata.Uid && Finished(j) is null).Select(j => j.Metadata.Name).Order(StringComparer.Ordinal).ToList(),
                LastEvent(events, "CronJob", c.Metadata.Name))
            {
                ResourceVersion = c.Metadata.ResourceVersion,
            })
            .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        return new WorkloadSnapshot(now, workers, jobViews, cronJobs, Autoscaler(now, workers, events)) { Namespace = _target.Namespace };
    }

    private AutoscalerView? Autoscaler(DateTimeOffset now, DeploymentView workers, IReadOnlyList<Corev1Event> events)
    {
        var hpa = WorkersAutoscaler();
        var queue = _queue.Current;
        long depth = queue.RedisAvailable ? queue.Depth : 0;
        var history = _history.Points;

        if (WorkersScaledObject() is { } scaled)
        {
            // KEDA's HPA (named in the ScaledObject's status) does the scaling: its status is the live state.
            var kedaHpa = _cache.Autoscalers.Items.FirstOrDefault(h => h.Metadata.Name == scaled.HpaName);
            return new AutoscalerView(scaled.ToAutoscalerSpec(), $"KEDA ScaledObject {scaled.Metadata.Name}",
                kedaHpa?.Status?.CurrentReplicas ?? workers.Pods.Count, kedaHpa?.Status?.DesiredReplicas ?? workers.Desired,
                kedaHpa is null ? null : Manifests.CurrentCpuPercent(kedaHpa), depth, kedaHpa?.Status?.LastScaleTime,
                scaled.Describe() + " KEDA owns its HPA and undoes edits made there, so changes here go to the ScaledObject.",
                LastEvent(events, "ScaledObject", scaled.Metadata.Name) ?? (kedaHpa is null ? null : LastEvent(events, "HorizontalPodAutoscaler", kedaHpa.Metadata.Name)),
                history)
            {
                ResourceVersion = scaled.Metadata.ResourceVersion,
                ScaledObject = scaled.Metadata.Name,
            };
        }

        if (hpa is null)
        {
            return null;
        }

        var conditions = hpa.Status?.Conditions ?? [];
        string? status = conditions.Count == 0
            ? "The HPA has not reported yet."
            : string.Join(" ", conditions.Select(c => $"{c.Type} {c.Status}{(string.IsNullOrEmpty(c.Reason) ? "" : " (" + c.Reason + ")")}{(string.IsNullOrEmpty(c.Message) ? "." : ": " + c.Message.TrimEnd('.') + ".")}"));
        return new AutoscalerView(Manifests.ToAutoscalerSpec(hpa), "HorizontalPodAutoscaler", hpa.Status?.CurrentReplicas ?? workers.Pods.Count,
            hpa.Status?.DesiredReplicas ?? workers.Desired, Manifests.CurrentCpuPercent(hpa), Manifests.CurrentQueueLength(hpa),
            hpa.Status?.LastScaleTime, status, LastEvent(events, "HorizontalPodAutoscaler", hpa.Metadata.Name), history)
        {
            ResourceVersion = hpa.Metadata.ResourceVersion,
        };
    }

    private static JobView JobView(V1Job job, IReadOnlyList<V1Pod> pods, ILookup<(string, string), Corev1Event> about)
    {
        var (condition, reason) = Finished(job) is { } done ? done : (job.Metadata.DeletionTimestamp is null ? null : "Deleting", (string?)null);
        var owned = pods.Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == job.Metadata.Uid) == true)
            .Select(p => View(p, about)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var cron = Controller(job) is { Kind: "CronJob" } owner ? owner.Name : null;
        return new JobView(Manifests.ToJobSpec(job.Metadata.Name, job.Spec), job.Status?.Active ?? 0, job.Status?.Succeeded ?? 0, job.Status?.Failed ?? 0,
            condition, reason, job.Status?.StartTime ?? job.Metadata.CreationTimestamp ?? DateTimeOffset.MinValue.UtcDateTime, job.Status?.CompletionTime, owned, cron)
        {
            Events = EventsOf(about, "Job", job.Metadata),
        };
    }

    /// <summary>"Complete" or "Failed" with the reason, once the Job controller has decided.</summary>
    private static (string Condition, string? Reason)? Finished(V1Job job)
    {
        var c = job.Status?.Conditions?.FirstOrDefault(c => c.Type is "Complete" or "Failed" && c.Status == "True");
        return c is null ? null : (c.Type, c.Type == "Failed" ? $"{c.Reason}: {c.Message}".Trim(' ', ':') : null);
    }

    private static V1OwnerReference? Controller(V1Job job) => job.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);

    private static bool OwnedBy(V1Pod pod, string kind) => pod.Metadata.OwnerReferences?.Any(o => o.Kind == kind) == true;

    private static string? LastEvent(IReadOnlyList<Corev1Event> events, string kind, string name) =>
        events.Where(e => e.InvolvedObject?.Kind == kind && e.InvolvedObject.Name == name)
            .OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp).LastOrDefault() is { } last
            ? $"{last.Reason}: {last.Message}".Trim(' ', ':')
            : null;

    /// <summary>
    /// The events about one object, as `kubectl describe` finds them: by the involved object's kind and name, and by
    /// its uid when both carry one, so a re-run Job (same name, new uid) does not show its predecessor's failure.
    /// </summary>
    private static IReadOnlyList<ObjectEvent> EventsOf(ILookup<(string, string), Corev1Event> about, string kind, V1ObjectMeta meta) =>
        ObjectEvent.Recent(about[(kind, meta.Name)]
            .Where(e => string.IsNullOrEmpty(e.InvolvedObject.Uid) || string.IsNullOrEmpty(meta.Uid) || e.InvolvedObject.Uid == meta.Uid)
            .Select(e => new ObjectEvent(Utc(e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp ?? DateTime.MinValue),
                string.IsNullOrEmpty(e.Type) ? ObjectEvent.Normal : e.Type, e.Reason ?? "", e.Message ?? "", e.Count ?? e.Series?.Count ?? 1)));

    private static DateTimeOffset Utc(DateTime t) =>
        t.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(t, TimeSpan.Zero) : new DateTimeOffset(t.ToUniversalTime(), TimeSpan.Zero);

    private static PodView View(V1Pod p, ILookup<(string, string), Corev1Event> about)
    {
        var statuses = p.Status?.ContainerStatuses ?? [];
        var waiting = statuses.Select(s => s.State?.Waiting).FirstOrDefault(w => w is not null);
        var terminated = statuses.Select(s => s.LastState?.Terminated ?? s.State?.Terminated).FirstOrDefault(t => t is not null);
        string phase = p.Metadata.DeletionTimestamp is not null ? "Terminating"
            : waiting?.Reason is "CrashLoopBackOff" or "ImagePullBackOff" or "ErrImagePull" ? waiting.Reason
            : p.Status?.Phase ?? "Pending";
        string? note = waiting is not null && !string.IsNullOrEmpty(waiting.Reason) ? $"{waiting.Reason}{(string.IsNullOrEmpty(waiting.Message) ? "" : ": " + waiting.Message)}"
            : terminated is { ExitCode: not 0 } t ? $"last exit {t.ExitCode}{(string.IsNullOrEmpty(t.Reason) ? "" : " (" + t.Reason + ")")}"
            : p.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False") is { } unscheduled ? $"{unscheduled.Reason}: {unscheduled.Message}"
            : null;
        bool ready = p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true && p.Metadata.DeletionTimestamp is null;
        return new PodView(p.Metadata.Name, phase, ready, statuses.Sum(s => s.RestartCount),
            p.Status?.StartTime ?? p.Metadata.CreationTimestamp ?? DateTime.MinValue, 0, 0, p.Spec?.NodeName ?? "", null, note)
        {
            Labels = p.Metadata.Labels is { Count: > 0 } labels ? new Dictionary<string, string>(labels) : new Dictionary<string, string>(),
            Events = EventsOf(about, "Pod", p.Metadata),
        };
    }

    /// <summary>The workers Deployment's pods (a Job's pods that its selector happens to match aside).</summary>
    private List<V1Pod> WorkerPods() =>
        LabelSelector.From(_cache.Deployments.Get(_o.WorkersDeployment)?.Spec?.Selector) is { } selector
            ? [.. _cache.Pods.Items.Where(p => selector.Matches(LabelsOf(p)) && !OwnedBy(p, "Job"))]
            : [];

    private static IReadOnlyDictionary<string, string> LabelsOf(V1Pod pod) =>
        pod.Metadata.Labels as IReadOnlyDictionary<string, string> ?? new Dictionary<string, string>(pod.Metadata.Labels ?? new Dictionary<string, string>());

    /// <summary>
    /// The worker pods' views, busy or idle from the heartbeats, ranked in the order a scale-down removes them: the
    /// ReplicaSet controller takes the lower pod-deletion-cost first, then the newer pod (ActivePodsWithRanks).
    /// </summary>
    private List<PodView> Ranked(List<V1Pod> pods, ILookup<(string, string), Corev1Event> about)
    {
        var busy = _busy;
        var order = pods.Where(p => p.Metadata.DeletionTimestamp is null)
            .OrderBy(PodDeletionCosts.Of).ThenByDescending(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .Select((p, i) => (p.Metadata.Name, Rank: i + 1)).ToDictionary(x => x.Name, x => x.Rank, StringComparer.Ordinal);
        return [.. pods.Select(p => WithUsage(View(p, about), p) with
            {
                Busy = busy.Contains(p.Metadata.Name),
                ScaleDownRank = order.TryGetValue(p.Metadata.Name, out int rank) ? rank : null,
            }).OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// A worker pod's CPU (against the sum of its containers' CPU requests, as the HPA computes utilisation) and memory
    /// from its PodMetrics; without them, why not, in place of the figures.
    /// </summary>
    private PodView WithUsage(PodView view, V1Pod pod)
    {
        double request = (pod.Spec?.Containers ?? []).Sum(c => c.Resources?.Requests is { } r && r.TryGetValue("cpu", out var q) && q is not null ? (double)q.ToDecimal() : 0);
        if (Metrics.Unavailable is { } why)
        {
            return view with { UsageNote = why };
        }

        if (!Metrics.Usage.TryGetValue(pod.Metadata.Name, out var usage))
        {
            // metrics-server reports a pod after its first scrape, up to a resolution after it starts.
            return view with { UsageNote = "not measured yet" };
        }

        return view with
        {
            CpuPercent = request > 0 ? Math.Round(usage.CpuCores / request * 100, 1) : 0,
            MemoryBytes = usage.MemoryBytes,
            CpuMillicores = Math.Round(usage.CpuCores * 1000),
            CpuRequestMillicores = request > 0 ? Math.Round(request * 1000) : null,
        };
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _queueSubscription.Dispose();
        Metrics.Dispose();
    }
}
