using System.Collections.Concurrent;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using PiOps.Web.Utils;

namespace PiOps.Web.Kubernetes;

/// <summary>What the banner shows: where the dashboard is connected, and why the cluster cannot be read, if it cannot.</summary>
/// <param name="Synced">Every kind has been listed at least once.</param>
/// <param name="Error">A sentence while the API is unreachable or refuses; null when all is well.</param>
public sealed record ClusterState(string Cluster, string? Context, string Namespace, bool Synced, string? Error);

/// <summary>
/// The one copy of a namespace's state per process, which every page renders from. The C# client has no informer,
/// so per kind: list, then watch from the list's resourceVersion with a finite timeout; when the server ends the
/// watch, watch again from the last version seen; on 410 Gone (the version is too old) list again; on any other
/// failure wait with client-go's back-off (<see cref="ReflectorBackoff"/>) and list again. The API load is six lists and six watches, and a seventh of each for KEDA's ScaledObjects where the CRD exists, whatever the number of pages.
/// </summary>
public sealed class ClusterCache(
    KubernetesTarget target,
    IKubernetes client,
    IOptions<KubernetesOptions> options,
    ILogger<ClusterCache> log) : BackgroundService
{
    private readonly KubernetesOptions _o = options.Value;
    private readonly Subscribers<ClusterState> _subscribers = new();
    private readonly ConcurrentDictionary<string, string> _errors = new();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private volatile bool _synced;

    public KindCache<V1Deployment> Deployments { get; } = new("deployments");

    public KindCache<V1Pod> Pods { get; } = new("pods");

    public KindCache<V1Job> Jobs { get; } = new("jobs");

    public KindCache<V1CronJob> CronJobs { get; } = new("cronjobs");

    public KindCache<V2HorizontalPodAutoscaler> Autoscalers { get; } = new("horizontalpodautoscalers");

    public KindCache<Corev1Event> Events { get; } = new("events");

    /// <summary>KEDA's ScaledObjects; stays empty (and raises no error) where the CRD is not installed.</summary>
    public KindCache<ScaledObject> ScaledObjects { get; } = new(ScaledObject.Plural);

    private IEnumerable<IKindCache> All => [Deployments, Pods, Jobs, CronJobs, Autoscalers, Events, ScaledObjects];

    public ClusterState State => new(target.Cluster, target.Context, target.Namespace, _synced,
        All.SelectMany(k => new[] { _errors.GetValueOrDefault(k.Resource), _errors.GetValueOrDefault(WatchKey(k.Resource)) }).FirstOrDefault(e => e is not null));

    // A failing watch is reported apart from its list: the list succeeding in between does not hide it.
    private static string WatchKey(string resource) => resource + " watch";

    /// <summary>Called (at most every 50 ms) after the cache or the connection changed. Dispose to stop.</summary>
    public IDisposable Subscribe(Func<ClusterState, Task> onChanged) => _subscribers.Add(onChanged);

    /// <summary>Label selector of the Jobs and CronJobs shown: PiOps' label, or none with ShowAllJobs.</summary>
    private string? JobSelector => _o.ShowAllJobs ? null : $"{_o.ManagedLabelPair.Key}={_o.ManagedLabelPair.Value}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string ns = target.Namespace;
        string? jobs = JobSelector;
        return Task.WhenAll(
            PumpAsync(stoppingToken),
            RunAsync(Deployments,
                ct => client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct),
                (rv, t, e, ct) => client.AppsV1.WatchListNamespacedDeploymentAsync(ns, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(Pods,
                ct => client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: ct),
                (rv, t, e, ct) => client.CoreV1.WatchListNamespacedPodAsync(ns, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(Jobs,
                ct => client.BatchV1.ListNamespacedJobAsync(ns, labelSelector: jobs, cancellationToken: ct),
                (rv, t, e, ct) => client.BatchV1.WatchListNamespacedJobAsync(ns, labelSelector: jobs, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(CronJobs,
                ct => client.BatchV1.ListNamespacedCronJobAsync(ns, labelSelector: jobs, cancellationToken: ct),
                (rv, t, e, ct) => client.BatchV1.WatchListNamespacedCronJobAsync(ns, labelSelector: jobs, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(Autoscalers,
                ct => client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: ct),
                (rv, t, e, ct) => client.AutoscalingV2.WatchListNamespacedHorizontalPodAutoscalerAsync(ns, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(Events,
                ct => client.CoreV1.ListNamespacedEventAsync(ns, cancellationToken: ct),
                (rv, t, e, ct) => client.CoreV1.WatchListNamespacedEventAsync(ns, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: t, onError: e, cancellationToken: ct), stoppingToken),
            RunAsync(ScaledObjects,
                ct => client.CustomObjects.ListNamespacedCustomObjectAsync<ScaledObjectList>(ScaledObject.Group, ScaledObject.Version, ns, ScaledObject.Plural, cancellationToken: ct),
                (rv, t, e, ct) => WatchScaledObjectsAsync(ns, rv, t, e, ct), stoppingToken, optional: true));
    }

    // The client hands custom objects of a watch over as JSON elements.
    private async IAsyncEnumerable<(WatchEventType, ScaledObject)> WatchScaledObjectsAsync(string ns, string? resourceVersion, int timeoutSeconds,
        Action<Exception> onError, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (type, item) in client.CustomObjects.WatchListNamespacedCustomObjectAsync(ScaledObject.Group, ScaledObject.Version, ns,
                           ScaledObject.Plural, resourceVersion: resourceVersion, allowWatchBookmarks: true, timeoutSeconds: timeoutSeconds, onError: onError, cancellationToken: ct))
        {
            yield return (type, ScaledObjectList.From(item));
        }
    }

    private delegate Task<TList> ListCall<TList>(CancellationToken ct);

    private delegate IAsyncEnumerable<(WatchEventType, T)> WatchCall<T>(string? resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken ct);

    /// <param name="optional">
    /// A kind that may not exist on the cluster (a CRD): 404 (not installed) or 403 (the Role does not grant it) leaves
    /// it empty without an error, and it is looked for again after a watch timeout.
    /// </param>
    private async Task RunAsync<T, TList>(KindCache<T> cache, ListCall<TList> list, WatchCall<T> watch, CancellationToken stop,
        bool optional = false)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : IItems<T>, IMetadata<V1ListMeta>
    {
        var backOff = new ReflectorBackoff();
        int timeoutSeconds = (int)Math.Ceiling(_o.WatchTimeout.TotalSeconds);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var listed = await list(stop);
                cache.Replace(listed.Items ?? [], listed.Metadata?.ResourceVersion);

                SetError(cache.Resource, null);
                _synced = All.All(k => k.Listed);
                Changed();
                // Watch from the list's version until the version is too old (410), then list again.
                var run = new WatchRun(() =>
                {
                    // The watch works: what failed before is over.
                    backOff.Reset();
                    if (_errors.ContainsKey(WatchKey(cache.Resource)))
                    {
                        SetError(WatchKey(cache.Resource), null);
                        Changed();
                    }
                });
                try
                {
                    while (await WatchOnceAsync(cache, watch, timeoutSeconds, run, stop))
                    {
                        if (!run.Worked)
                        {
                            // A watch the server ended at once, with nothing in it: back off as client-go does for a
                            // "very short watch", or a server that closes every watch would be asked again in a loop.
                            await Task.Delay(backOff.Next(), stop);
                        }
                    }
                }
                catch (Exception ex) when (!stop.IsCancellationRequested && ex is not HttpOperationException && run.Worked)
                {
                    // A watch that had worked was cut (a dropped connection): list again at once.
                    log.LogInformation("The {Resource} watch was cut ({Message}): listing again", cache.Resource, ex.InnerException?.Message ?? ex.Message);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested && ex is not HttpOperationException)
                {
                    // Cut before it worked: the connection does not hold. List again after a back-off; a list that
                    // fails too reports the outage.
                    log.LogInformation("The {Resource} watch was cut at once ({Message}): listing again after a back-off", cache.Resource, ex.InnerException?.Message ?? ex.Message);
                    await Task.Delay(backOff.Next(ex), stop);
                }
                catch (HttpOperationException ex) when (!stop.IsCancellationRequested)
                {
                    // The watch request itself failed (403 on watch alone, 429 from priority and fairness, 5xx) while
                    // the list works: an outage like a failing list, shown in the banner, and retried with back-off
                    // (honouring Retry-After), never at once.
                    string sentence = ApiErrors.ForRead(ex, cache.Resource, target, "watch");
                    if (_errors.GetValueOrDefault(WatchKey(cache.Resource)) != sentence)
                    {
                        log.LogWarning("Watching {Resource} failed: {Error}", cache.Resource, sentence);
                    }

                    SetError(WatchKey(cache.Resource), sentence);
                    Changed();
                    await Task.Delay(backOff.Next(ex), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HttpOperationException ex) when (optional && ex.Response?.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Forbidden)
            {
                if (!cache.Listed)
                {
                    log.LogInformation("No {Resource} here ({Code}): {Reason}", cache.Resource, (int)ex.Response!.StatusCode,
                        ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound ? "the CRD is not installed" : "the dashboard's Role does not grant it");
                }

                cache.Replace([], null);
                SetError(cache.Resource, null);
                _synced = All.All(k => k.Listed);
                Changed();
                try
                {
                    await Task.Delay(_o.WatchTimeout, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (Exception ex)
            {
                string sentence = ApiErrors.ForRead(ex, cache.Resource, target);
                if (_errors.GetValueOrDefault(cache.Resource) != sentence)
                {
                    log.LogWarning("Reading {Resource} failed: {Error}", cache.Resource, sentence);
                }

                SetError(cache.Resource, sentence);
                Changed();
                try
                {
                    await Task.Delay(backOff.Next(ex), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Whether the current watch works: it delivered an event, or it ran a while before the server ended it.</summary>
    private sealed class WatchRun(Action worked)
    {
        public bool Worked { get; private set; }

        public void Working()
        {
            if (!Worked)
            {
                Worked = true;
                worked();
            }
        }

        public void Start() => Worked = false;
    }

    /// <summary>One watch. True: watch again from the last version seen. False: that version is gone, list again.</summary>
    private async Task<bool> WatchOnceAsync<T>(KindCache<T> cache, WatchCall<T> watch, int timeoutSeconds, WatchRun run, CancellationToken stop)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        bool relist = false;
        run.Start();
        long started = Environment.TickCount64;
        // A watch still open after a second was accepted: the client reads the first line eagerly, so an idle watch
        // gives no other sign that the server said 200.
        using var accepted = new Timer(_ => run.Working(), null, 1000, Timeout.Infinite);
        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        // The server ends the watch at timeoutSeconds; this bounds a connection that went silent without closing.
        watchCts.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds + 30));
        try
        {
            var events = watch(cache.ResourceVersion, timeoutSeconds, ex =>
            {
                if (ex is KubernetesException k)
                {
                    // An ERROR event: 410 Gone (too old) or another status; either way the stream cannot go on.
                    log.LogInformation("Watch of {Resource} ended with {Code} {Reason}: listing again", cache.Resource, k.Status?.Code, k.Status?.Reason);
                    relist = true;
                    watchCts.Cancel();
                }
                else
                {
                    // A line that is not a watch event: skip it; the next event still carries the full object.
                    log.LogWarning("Skipped a malformed line in the {Resource} watch: {Message}", cache.Resource, ex.Message);
                }
            }, watchCts.Token);
            await foreach (var (type, item) in events)
            {
                run.Working();
                cache.Apply(type, item);
                Changed();
            }

            if (Environment.TickCount64 - started >= 1000)
            {
                run.Working();
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // Ended by a 410 above, or by the silence bound.
        }
        catch (HttpOperationException ex) when (ex.Response?.StatusCode == System.Net.HttpStatusCode.Gone)
        {
            relist = true;
        }
        catch (HttpRequestException ex) when (ex.InnerException is EndOfStreamException)
        {
            // The client reports a watch that the server ended before any event this way (it reads the first line
            // eagerly). Nothing was missed: watch again from the same version.
            if (Environment.TickCount64 - started >= 1000)
            {
                run.Working();
            }
        }

        return !relist;
    }

    private void SetError(string resource, string? error)
    {
        if (error is null)
        {
            _errors.TryRemove(resource, out _);
        }
        else
        {
            _errors[resource] = error;
        }
    }

    private void Changed()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    // Coalesces changes: a burst of events (a list of hundreds of pods) makes one notification.
    private async Task PumpAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await _changed.WaitAsync(stop);
                _subscribers.Publish(State, log);
                await Task.Delay(50, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

internal interface IKindCache
{
    string Resource { get; }

    bool Listed { get; }
}

/// <summary>The objects of one kind, by name, and the resourceVersion they are current to.</summary>
public sealed class KindCache<T>(string resource) : IKindCache
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly object _gate = new();
    private Dictionary<string, T> _items = new(StringComparer.Ordinal);

    /// <summary>The plural resource name, as in RBAC rules and API paths.</summary>
    public string Resource { get; } = resource;

    public bool Listed { get; private set; }

    public string? ResourceVersion { get; private set; }

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_gate)
            {
                return [.. _items.Values];
            }
        }
    }

    public T? Get(string name)
    {
        lock (_gate)
        {
            return _items.GetValueOrDefault(name);
        }
    }

    internal void Replace(IEnumerable<T> items, string? resourceVersion)
    {
        var fresh = items.Where(i => i.Metadata?.Name is not null).ToDictionary(i => i.Metadata.Name, StringComparer.Ordinal);
        lock (_gate)
        {
            _items = fresh;
            ResourceVersion = resourceVersion;
            Listed = true;
        }
    }

    internal void Apply(WatchEventType type, T item)
    {
        lock (_gate)
        {
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified when item.Metadata?.Name is { } name:
                    _items[name] = item;
                    break;
                case WatchEventType.Deleted when item.Metadata?.Name is { } name:
                    _items.Remove(name);
                    break;
            }

            // Bookmarks carry only a version; every event moves the watch's starting point.
            if (item.Metadata?.ResourceVersion is { Length: > 0 } rv)
            {
                ResourceVersion = rv;
            }
        }
    }
}
