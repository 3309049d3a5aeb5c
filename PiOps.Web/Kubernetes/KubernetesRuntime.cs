using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using PiOps.Web.Logs;
using PiOps.Shared.Queue;
using PiOps.Web.Queue;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// The workload model on the Kubernetes API. Reads come from the shared <see cref="ClusterCache"/>; the primitive calls
/// are the ones kubectl makes, each naming its RBAC rule so a refusal can say what is missing. What an operator's action
/// checks and refuses before calling is <see cref="WorkloadActions"/>'.
/// </summary>
public sealed partial class KubernetesRuntime : IWorkloadBackend, IPodLogSource, IDisposable
{
    /// <summary>The annotation naming the signed-in user who asked for an object.</summary>
    public const string RequestedBy = "piops.io/requested-by";

    private readonly ClusterCache _cache;
    private readonly IKubernetes _client;
    private readonly KubernetesTarget _target;
    private readonly KubernetesOptions _o;
    private readonly IQueueState _queue;
    private readonly TimeProvider _time;
    private readonly Impersonation _impersonation;
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
        Impersonation impersonation, ILogger<KubernetesRuntime> log)
    {
        _impersonation = impersonation;
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

    /// <summary>
    /// What the pods of created Jobs and CronJobs get: the options' image, queue and label, and the Redis connection of
    /// the workers Deployment as the cache holds it now (<see cref="WorkerConnection"/>), so a preview shows what a create
    /// sends.
    /// </summary>
    public PodSettings Pod => _pod with { Connection = CachedConnection() };

    private WorkerConnection CachedConnection()
    {
        if (!_cache.Deployments.Listed)
        {
            return Fallback($"the namespace's Deployments have not been read yet{(_cache.State.Error is { } error ? ": " + error : "")}");
        }

        return _cache.Deployments.Get(_o.WorkersDeployment) is { } workers ? FromWorkers(workers) : Fallback(Missing);
    }

    /// <summary>
    /// The pod settings a create sends. From the cache once it has listed the Deployments; before that (a namespace just
    /// opened, or its list failing), one list of the workers Deployment by name (the Role's list, so no other rule is
    /// needed), made as the dashboard as the cache's are. When it cannot be read, the options' REDIS_HOST/REDIS_PORT,
    /// and a warning in the log: the Job may not reach a Redis that needs more.
    /// </summary>
    public async Task<PodSettings> PodToCreateAsync()
    {
        var pod = Pod;
        if (!_cache.Deployments.Listed)
        {
            try
            {
                var listed = await _client.AppsV1.ListNamespacedDeploymentAsync(_target.Namespace, fieldSelector: $"metadata.name={_o.WorkersDeployment}");
                var workers = listed.Items?.FirstOrDefault(d => d.Metadata?.Name == _o.WorkersDeployment);
                pod = _pod with { Connection = workers is null ? Fallback(Missing) : FromWorkers(workers) };
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
            {
                pod = _pod with { Connection = Fallback(ApiErrors.ForRead(ex, "deployments", _target)) };
            }
        }

        if (pod.Connection?.Note is { } note)
        {
            _log.LogWarning("Creating a Job or CronJob in {Namespace} with REDIS_HOST={Host} and REDIS_PORT={Port} only: {Note}", _target.Namespace, _pod.RedisHost, _pod.RedisPort, note);
        }

        return pod;
    }

    private string Missing => $"there is no Deployment {_o.WorkersDeployment} in namespace {_target.Namespace} (Kubernetes:WorkersDeployment)";

    private WorkerConnection FromWorkers(V1Deployment workers) =>
        WorkerConnection.FromWorkers(workers, Manifests.ContainerName) switch
        {
            null => Fallback($"the Deployment {_o.WorkersDeployment} has no container"),
            { NamesRedis: false } some => some.WithHostAndPort(_pod.RedisHost, _pod.RedisPort,
                $"The worker container of Deployment {_o.WorkersDeployment} sets neither REDIS_HOST nor REDIS_SENTINELS in its env (envFrom is not copied), so Jobs and CronJobs created here get REDIS_HOST={_pod.RedisHost} and REDIS_PORT={_pod.RedisPort} (Kubernetes:RedisHost, Kubernetes:RedisPort){(some.Env.Count > 0 ? " with the workers' other Redis entries" : "")}."),
            var copied => copied,
        };

    private WorkerConnection Fallback(string why) => WorkerConnection.HostAndPort(_pod.RedisHost, _pod.RedisPort,
        $"The workers' Redis settings could not be copied ({why}), so Jobs and CronJobs created here get only REDIS_HOST={_pod.RedisHost} and REDIS_PORT={_pod.RedisPort} (Kubernetes:RedisHost, Kubernetes:RedisPort): no Sentinels, password or TLS.");

    public (int Max, string Setting) ReplicaCap => (_o.MaxReplicas, "Kubernetes:MaxReplicas");

    public KubernetesTarget Target => _target;

    public ClusterState State => _cache.State;

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    /// <summary>The Job a spec becomes on this cluster: what creating it sends and the YAML preview shows.</summary>
    public V1Job JobFor(JobSpec spec) => Manifests.Job(spec, Pod);

    public async Task ScaleAsync(int replicas, Actor? by = null)
    {
        // kubectl scale: a merge patch of the scale subresource, so only the replica count changes.
        await CallAsync("patch", "deployments/scale", "Deployment", _o.WorkersDeployment, by, headers =>
            _client.AppsV1.PatchNamespacedDeploymentScaleWithHttpMessagesAsync(
                new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), _o.WorkersDeployment, _target.Namespace, customHeaders: headers));
    }

    public Task CreateJobAsync(V1Job job, Actor? by = null)
    {
        Annotate(job.Metadata ??= new V1ObjectMeta(), by);
        return CallAsync("create", "jobs", "Job", job.Metadata.Name, by, headers =>
            _client.BatchV1.CreateNamespacedJobWithHttpMessagesAsync(job, _target.Namespace, customHeaders: headers));
    }

    // Who asked, as the audit trail names them: on every object PiOps creates, so the cluster shows it too.
    private static void Annotate(V1ObjectMeta metadata, Actor? by)
    {
        if (by is not null)
        {
            metadata.Annotations ??= new Dictionary<string, string>();
            metadata.Annotations[RequestedBy] = by.Name;
        }
    }

    public Task DeleteJobAsync(string name, Actor? by = null) =>
        // Background, as kubectl does: the Job goes now and the garbage collector removes its pods (the API's default
        // for Jobs is to orphan them).
        CallAsync("delete", "jobs", "Job", name, by, headers =>
            _client.BatchV1.DeleteNamespacedJobWithHttpMessagesAsync(name, _target.Namespace, propagationPolicy: "Background", customHeaders: headers));

    public TimeSpan JobDeletionTimeout => _o.JobDeletionTimeout;

    public async Task<V1Job?> GetJobAsync(string name, Actor? by = null)
    {
        try
        {
            using var response = await _client.BatchV1.ReadNamespacedJobWithHttpMessagesAsync(name, _target.Namespace, customHeaders: _impersonation.Headers(by));
            return response.Body;
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            throw new OperatorActionException(ApiErrors.ForAction(ex, "get", "jobs", "Job", name, _target, by));
        }
    }

    // The same create with dryRun=All: the API server authorises, validates and admits it (quota, webhooks with
    // sideEffects None) and stores nothing (apiserver/pkg/registry/generic/registry/dryrun.go). The old Job still holds
    // the name, so AlreadyExists is the answer when everything before storage passed.
    public async Task<string?> CheckCreateJobAsync(V1Job job, Actor? by = null)
    {
        string name = job.Metadata.Name;
        Annotate(job.Metadata ??= new V1ObjectMeta(), by);
        try
        {
            using var _ = await _client.BatchV1.CreateNamespacedJobWithHttpMessagesAsync(job, _target.Namespace, dryRun: "All", customHeaders: _impersonation.Headers(by));
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == HttpStatusCode.Conflict && ApiErrors.Reason(ex) == "AlreadyExists")
        {
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            return $"the API would not create it again (checked with a dry run). {ApiErrors.ForAction(ex, "create", "jobs", "Job", name, _target, by)}";
        }

        return null;
    }

    public async Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null)
    {
        var cron = Manifests.CronJob(spec, await PodToCreateAsync());
        Annotate(cron.Metadata, by);
        await CallAsync("create", "cronjobs", "CronJob", spec.Name, by, headers =>
            _client.BatchV1.CreateNamespacedCronJobWithHttpMessagesAsync(cron, _target.Namespace, customHeaders: headers));
    }

    public Task UpdateCronJobAsync(CronJobSpec spec, Actor? by = null) => PatchCronJobAsync(spec.Name, Manifests.CronJobPatch(spec), by);

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null) =>
        PatchCronJobAsync(name, suspend ? "{\"spec\":{\"suspend\":true}}" : "{\"spec\":{\"suspend\":false}}", by);

    private Task PatchCronJobAsync(string name, string mergePatch, Actor? by) =>
        CallAsync("patch", "cronjobs", "CronJob", name, by, headers =>
            _client.BatchV1.PatchNamespacedCronJobWithHttpMessagesAsync(new V1Patch(mergePatch, V1Patch.PatchType.MergePatch), name, _target.Namespace, customHeaders: headers));

    public Task DeleteCronJobAsync(string name, Actor? by = null) =>
        // Its Jobs, and their pods, go with it.
        CallAsync("delete", "cronjobs", "CronJob", name, by, headers =>
            _client.BatchV1.DeleteNamespacedCronJobWithHttpMessagesAsync(name, _target.Namespace, propagationPolicy: "Background", customHeaders: headers));

    public async Task RunCronJobAsync(string name, string jobName, Actor? by = null)
    {
        var cron = await CallAsync("get", "cronjobs", "CronJob", name, by, headers =>
            _client.BatchV1.ReadNamespacedCronJobWithHttpMessagesAsync(name, _target.Namespace, customHeaders: headers));
        await CreateJobAsync(Manifests.JobFromCronJob(cron, jobName), by);
    }

    public async Task SetAutoscalerAsync(AutoscalerSpec spec, Actor? by = null)
    {
        if (WorkersScaledObject() is { } scaled)
        {
            await SetScaledObjectAsync(scaled, spec, by);
            return;
        }

        var existing = WorkersAutoscaler();
        if (!spec.Enabled)
        {
            // Off: the Deployment keeps its replicas from now on (kubectl delete hpa).
            if (existing is not null)
            {
                await CallAsync("delete", "horizontalpodautoscalers", "HorizontalPodAutoscaler", existing.Metadata.Name, by, headers =>
                    _client.AutoscalingV2.DeleteNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(existing.Metadata.Name, _target.Namespace, customHeaders: headers));
            }

            return;
        }

        if (existing is null)
        {
            var hpa = Manifests.Autoscaler(spec, _o.WorkersDeployment, _o.QueueMetricName, _pod);
            Annotate(hpa.Metadata, by);
            await CallAsync("create", "horizontalpodautoscalers", "HorizontalPodAutoscaler", hpa.Metadata.Name, by, headers =>
                _client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(hpa, _target.Namespace, customHeaders: headers));
        }
        else
        {
            await CallAsync("patch", "horizontalpodautoscalers", "HorizontalPodAutoscaler", existing.Metadata.Name, by, headers =>
                _client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(
                    new V1Patch(Manifests.OnVersion(Manifests.AutoscalerPatch(spec, _o.QueueMetricName), spec.ResourceVersion), V1Patch.PatchType.MergePatch), existing.Metadata.Name, _target.Namespace, customHeaders: headers));
        }
    }

    /// <summary>
    /// KEDA owns the HPA it made from a ScaledObject and puts back whatever is edited there, so with KEDA the edits go
    /// to the ScaledObject (a merge patch), and turning the autoscaler off deletes the ScaledObject (KEDA then removes its
    /// HPA and the Deployment keeps its replicas).
    /// </summary>
    private async Task SetScaledObjectAsync(ScaledObject scaled, AutoscalerSpec spec, Actor? by)
    {
        string name = scaled.Metadata.Name;
        if (!spec.Enabled)
        {
            await CallAsync("delete", ScaledObject.Plural, "ScaledObject", name, by, headers =>
                _client.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync(ScaledObject.Group, ScaledObject.Version, _target.Namespace, ScaledObject.Plural, name, customHeaders: headers));
            return;
        }

        string patch = Manifests.OnVersion(scaled.PatchFor(spec, ($"{_o.RedisHost}:{_o.RedisPort}", _pod.QueueName)), spec.ResourceVersion);
        await CallAsync("patch", ScaledObject.Plural, "ScaledObject", name, by, headers =>
            _client.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch),
                ScaledObject.Group, ScaledObject.Version, _target.Namespace, ScaledObject.Plural, name, customHeaders: headers));
    }

    private ScaledObject? WorkersScaledObject() => _cache.ScaledObjects.Items.FirstOrDefault(o => o.Targets(_o.WorkersDeployment));

    private V2HorizontalPodAutoscaler? WorkersAutoscaler() =>
        _cache.Autoscalers.Items.FirstOrDefault(h => h.Spec?.ScaleTargetRef is { Kind: "Deployment" } r && r.Name == _o.WorkersDeployment);

    // One call of the API for an operator: made as them when impersonating, its failure in a sentence that names them.
    private async Task<T> CallAsync<T>(string verb, string resource, string kind, string? name, Actor? by,
        Func<IReadOnlyDictionary<string, IReadOnlyList<string>>?, Task<HttpOperationResponse<T>>> call)
    {
        try
        {
            using var response = await call(_impersonation.Headers(by));
            return response.Body;
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == System.Net.HttpStatusCode.Conflict && ApiErrors.Reason(ex) == "Conflict" && name is not null)
        {
            // A stale resourceVersion (apimachinery errors.go NewConflict): someone else's change wins, the form reloads.
            throw OperatorActionException.StaleEdit(kind, name, ApiErrors.Said(ex));
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or TaskCanceledException)
        {
            throw new OperatorActionException(ApiErrors.ForAction(ex, verb, resource, kind, name, _target, by));
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _queueSubscription.Dispose();
        Metrics.Dispose();
    }
}
