using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PiOps.Web.Kubernetes;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server for tests, on a loopback port: the real paths and JSON of the kinds PiOps uses (Pods,
/// Events, Deployments with their scale subresource, Jobs, CronJobs, autoscaling/v2 HPAs), resourceVersions, list and
/// line-by-line watch with label selectors, 409/404/422/403 as Status objects, delete with propagationPolicy, merge and
/// strategic-merge patch. It plays the Deployment and Job controllers just enough to have pods, and the garbage
/// collector. It authorises every call by the RBAC objects the chart renders (Roles, RoleBindings, ClusterRoles and their
/// bindings, read through the helm renderer), never by the product's own list: the dashboard's service account gets
/// what the chart binds to it, and an impersonated call what the chart binds to the impersonated user and groups
/// (KubeApiDouble.Impersonation.cs). A call outside it is a 403 in the API server's words.
/// Hooks let tests close, drop or spoil watches, expire resourceVersions, and change status. docs/kubernetes.md lists
/// what it does not do.
/// </summary>
public sealed partial class KubeApiDouble : IAsyncDisposable
{
    public const string Namespace = "piops-test";
    public const string ServiceAccount = "system:serviceaccount:piops-test:piops-dashboard";

    private static readonly Dictionary<string, ApiKind> Kinds = new[]
    {
        new ApiKind("", "v1", "pods", "Pod"),
        new ApiKind("", "v1", "events", "Event"),
        new ApiKind("apps", "v1", "deployments", "Deployment"),
        new ApiKind("batch", "v1", "jobs", "Job"),
        new ApiKind("batch", "v1", "cronjobs", "CronJob"),
        new ApiKind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
        new ApiKind("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject"),
    }.ToDictionary(k => k.Plural);

    /// <summary>Whether KEDA's CRD is installed; without it, keda.sh paths answer 404 as on a cluster without KEDA.</summary>
    public bool KedaInstalled { get; set; }

    private readonly object _gate = new();
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal) { Namespace };
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _store = Kinds.Keys.ToDictionary(k => k, _ => new Dictionary<string, JsonObject>(StringComparer.Ordinal));
    private readonly List<Entry> _history = [];
    private readonly ConcurrentDictionary<string, bool> _forbidden = new();
    private readonly ConcurrentDictionary<HttpContext, bool> _watches = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly WebApplication _app;
    private long _rv = 1000;
    private long _tooOldBelow;
    private bool _holdWatches;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bookmarks;
    private CancellationTokenSource _closeWatches = new();

    private KubeApiDouble(WebApplication app)
    {
        _app = app;
        UseRbac(ChartRbac(), ChartReleaseNamespace);
    }

    public string Address { get; private set; } = "";

    /// <summary>
    /// Starts the server with the workers Deployment (2 replicas) in <see cref="Namespace"/>, authorising by the chart's
    /// RBAC as rendered with its defaults (see <see cref="ChartRbac"/> for a dashboard that operates more namespaces).
    /// </summary>
    public static async Task<KubeApiDouble> StartAsync(int workers = 2)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var api = new KubeApiDouble(app);
        app.Run(api.HandleRecordedAsync);
        await app.StartAsync();
        api.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        api.Seed("deployments", Deployment("pi-worker", workers));
        return api;
    }

    /// <summary>A kubeconfig file that points at this server, with one context "double" in <see cref="Namespace"/>.</summary>
    public string WriteKubeconfig(string directory)
    {
        string path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: double-cluster
              cluster:
                server: {Address}
            users:
            - name: dashboard
              user:
                token: test-token
            contexts:
            - name: double
              context:
                cluster: double-cluster
                user: dashboard
                namespace: {Namespace}
            current-context: double
            """);
        return path;
    }

    // ---- Test hooks ---------------------------------------------------------------------------------------------

    /// <summary>Requests so far, by "verb resource" (e.g. "watch jobs", "list pods", "create jobs").</summary>
    public int Requests(string verbAndResource) => _requests.GetValueOrDefault(verbAndResource);

    public int TotalRequests => _requests.Values.Sum();

    /// <summary>A copy of the request counts by "verb resource", to compare two moments.</summary>
    public IReadOnlyDictionary<string, int> RequestCounts => new Dictionary<string, int>(_requests);

    public int OpenWatches => _watches.Count;

    /// <summary>From now on, VERB on RESOURCE is refused with 403, as if the Role lacked it.</summary>
    public void Forbid(string verb, string resource) => _forbidden[$"{verb} {resource}"] = true;

    public void Allow(string verb, string resource) => _forbidden.TryRemove($"{verb} {resource}", out _);

    /// <summary>The server ends every open watch normally (as at its timeout).</summary>
    public void CloseWatches()
    {
        var old = Interlocked.Exchange(ref _closeWatches, new CancellationTokenSource());
        old.Cancel();
    }

    /// <summary>Every open watch connection is cut without an end (a dropped connection).</summary>
    public void DropWatches()
    {
        foreach (var ctx in _watches.Keys)
        {
            ctx.Abort();
        }
    }

    /// <summary>
    /// Every open watch that asked for them (allowWatchBookmarks=true) gets a BOOKMARK: the object's kind and apiVersion
    /// and only metadata.resourceVersion, the version the watch has been brought up to, as the API server's watch cache
    /// sends them about once a minute and before the watch's timeout (apiserver/pkg/storage/cacher/cacher.go and
    /// cache_watcher.go; "Watch bookmarks" in the API concepts). Others get none.
    /// </summary>
    public void SendBookmarks()
    {
        lock (_gate)
        {
            _bookmarks++;
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Every open watch gets a line that is not a watch event.</summary>
    public void SendMalformedLine() => Record(new Entry(NextRv(), null, null, null, "{\"type\":\"ADDED\",\"object\":{ this is not json"));

    /// <summary>
    /// Slow watches: until disposed, open watches deliver nothing; then they deliver every change held back, in order
    /// (a busy API server or a slow network, where a client's cache trails the API).
    /// </summary>
    public IDisposable DelayWatches()
    {
        lock (_gate)
        {
            _holdWatches = true;
        }

        return new Release(() =>
        {
            lock (_gate)
            {
                _holdWatches = false;
                Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        });
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>
    /// A compaction gap: open watches see none of <paramref name="changes"/>, then end; every resourceVersion given out
    /// so far is too old, so a client that watches again gets 410 Gone and must list again to see the changes.
    /// </summary>
    public void ChangeWhileCompacting(Action<KubeApiDouble> changes)
    {
        lock (_gate)
        {
            _holdWatches = true;
        }

        changes(this);
        lock (_gate)
        {
            _tooOldBelow = ++_rv;
            _holdWatches = false;
        }

        CloseWatches();
    }

    /// <summary>The Job controller's verdict: every pod succeeded and the Job is Complete.</summary>
    public void CompleteJob(string name, string ns = Namespace) => Mutate("jobs", name, job =>
    {
        int completions = job["spec"]?["completions"]?.GetValue<int>() ?? 1;
        foreach (var pod in Dependents(job))
        {
            Mutate("pods", Name(pod), p => SetPodPhase(p, "Succeeded"), ns);
            EndContainer(Name(pod));
        }

        var status = job["status"]!.AsObject();
        status["active"] = 0;
        status["ready"] = 0;
        status["succeeded"] = completions;
        status["completionTime"] = Now();
        status["conditions"] = new JsonArray(Condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
            Condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"));
    }, ns);

    /// <summary>The Job controller gives up: BackoffLimitExceeded.</summary>
    public void FailJob(string name, string ns = Namespace) => Mutate("jobs", name, job =>
    {
        foreach (var pod in Dependents(job))
        {
            Mutate("pods", Name(pod), p => SetPodPhase(p, "Failed"), ns);
            EndContainer(Name(pod));
        }

        var status = job["status"]!.AsObject();
        status["active"] = 0;
        status["failed"] = (job["spec"]?["backoffLimit"]?.GetValue<int>() ?? 6) + 1;
        status["conditions"] = new JsonArray(Condition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
            Condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"));
    }, ns);

    /// <summary>The pod's container stopped: its log stays readable, follow streams of it end.</summary>
    private void EndContainer(string pod)
    {
        var log = PodLog(pod);
        lock (log)
        {
            log.Ended.Cancel();
        }
    }

    /// <summary>
    /// The kubelet restarts the pod's container after a crash: the old container's log becomes the previous one
    /// (pods/log?previous=true), the new container starts an empty log, and follow streams of the old one end.
    /// </summary>
    public void RestartPod(string name, string ns = Namespace)
    {
        var log = PodLog(name);
        lock (log)
        {
            log.Previous = [.. log.Lines];
            log.Lines.Clear();
            log.Ended.Cancel();
            log.Ended = new CancellationTokenSource();
        }

        Mutate("pods", name, pod =>
        {
            var cs = pod["status"]!["containerStatuses"]![0]!.AsObject();
            cs["restartCount"] = cs["restartCount"]!.GetValue<int>() + 1;
            cs["lastState"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = 1, ["reason"] = "Error", ["finishedAt"] = Now() } };
        }, ns);
    }

    /// <summary>
    /// A core/v1 Event about an object, as a controller or the kubelet records it; returns the event's name (for
    /// <see cref="Delete"/>, as the API server does when the event's TTL is over). The involved object's apiVersion
    /// and uid are filled in when that object exists, as the recorder does.
    /// </summary>
    public string AddEvent(string kind, string name, string reason, string message, string type = "Normal", int count = 1, string ns = Namespace,
        DateTime? at = null)
    {
        var ev = NewEvent(kind, name, ns, reason, message, type);
        ev["count"] = count;
        ev["source"] = new JsonObject { ["component"] = (kind, reason) switch { ("Job", _) => "job-controller", (_, "FailedScheduling") => "default-scheduler", ("Pod", _) => "kubelet", _ => "controller" } };
        ev["firstTimestamp"] = at is { } first ? Time(first) : Now();
        ev["lastTimestamp"] = at is { } last ? Time(last) : Now();
        Seed("events", ev);
        return Name(ev);
    }

    /// <summary>
    /// An event as a component using events.k8s.io/v1 writes it (the scheduler, among others), seen through core/v1:
    /// eventTime (the first occurrence, in microseconds), reportingComponent and reportingInstance, a series once it
    /// happened again (count and lastObservedTime), and no firstTimestamp, lastTimestamp or count (the conversion in
    /// pkg/apis/events/v1 maps only the deprecated fields to those).
    /// </summary>
    public string AddSeriesEvent(string kind, string name, string reason, string message, DateTime first, DateTime? lastObserved = null,
        int count = 1, string type = "Normal", string reportingController = "default-scheduler", string ns = Namespace)
    {
        var ev = NewEvent(kind, name, ns, reason, message, type);
        ev["action"] = reason;
        ev["source"] = new JsonObject();
        ev["eventTime"] = MicroTime(first);
        ev["reportingComponent"] = reportingController;
        ev["reportingInstance"] = $"{reportingController}-node-1";
        if (lastObserved is { } seen)
        {
            ev["series"] = new JsonObject { ["count"] = count, ["lastObservedTime"] = MicroTime(seen) };
        }

        Seed("events", ev);
        return Name(ev);
    }

    // An event about an object, with a generated name and the involved object's apiVersion and uid when it exists, as
    // the recorder fills them in.
    private JsonObject NewEvent(string kind, string name, string ns, string reason, string message, string type)
    {
        var involved = new JsonObject { ["kind"] = kind, ["name"] = name, ["namespace"] = ns };
        lock (_gate)
        {
            if (Kinds.Values.FirstOrDefault(k => k.Kind == kind) is { } k && _store[k.Plural].GetValueOrDefault(Key(ns, name)) is { } obj)
            {
                involved["apiVersion"] = k.ApiVersion;
                involved["uid"] = Uid(obj);
            }
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = $"{name}.{Guid.NewGuid():N}"[..Math.Min(63, name.Length + 17)], ["namespace"] = ns },
            ["involvedObject"] = involved,
            ["reason"] = reason,
            ["message"] = message,
            ["type"] = type,
        };
    }

    private static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string MicroTime(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Creates or replaces an object directly, as another client of the cluster would; in <see cref="Namespace"/> unless
    /// its metadata names another (which then exists).
    /// </summary>
    public void Seed(string plural, JsonObject obj)
    {
        lock (_gate)
        {
            var meta = obj["metadata"]!.AsObject();
            meta["namespace"] ??= Namespace;
            _namespaces.Add(Ns(obj));
            meta["uid"] ??= Guid.NewGuid().ToString();
            meta["creationTimestamp"] ??= Now();
            bool exists = _store[plural].ContainsKey(Key(obj));
            if (plural == "deployments")
            {
                Put(plural, obj, exists ? "MODIFIED" : "ADDED");
                ReconcileDeployment(obj);
            }
            else
            {
                Put(plural, obj, exists ? "MODIFIED" : "ADDED");
            }
        }
    }

    /// <summary>The server's objects of a kind in a namespace: name → resourceVersion.</summary>
    public IReadOnlyDictionary<string, string> Versions(string plural, string ns = Namespace)
    {
        lock (_gate)
        {
            return InNamespace(plural, ns).ToDictionary(Name, o => o["metadata"]!["resourceVersion"]!.GetValue<string>());
        }
    }

    public JsonObject? Get(string plural, string name, string ns = Namespace)
    {
        lock (_gate)
        {
            return _store[plural].GetValueOrDefault(Key(ns, name))?.DeepClone().AsObject();
        }
    }

    /// <summary>A namespace comes to exist, with the workers Deployment when <paramref name="workers"/> is given.</summary>
    public void AddNamespace(string ns, int? workers = null)
    {
        lock (_gate)
        {
            _namespaces.Add(ns);
        }

        if (workers is { } replicas)
        {
            var dep = Deployment("pi-worker", replicas);
            dep["metadata"]!["namespace"] = ns;
            Seed("deployments", dep);
        }
    }

    /// <summary>Changes an object under the lock and records the change (MODIFIED, a new resourceVersion).</summary>
    public void Mutate(string plural, string name, Action<JsonObject> change, string ns = Namespace)
    {
        lock (_gate)
        {
            if (_store[plural].GetValueOrDefault(Key(ns, name)) is not { } obj)
            {
                throw new InvalidOperationException($"{plural}/{ns}/{name} does not exist on the double");
            }

            var copy = obj.DeepClone().AsObject();
            change(copy);
            Put(plural, copy, "MODIFIED");
            FinishIfUnblocked(plural, copy);
        }
    }

    /// <summary>Deletes as a client's DELETE with propagationPolicy=Background does: a running pod goes gracefully.</summary>
    public void Delete(string plural, string name, string ns = Namespace)
    {
        lock (_gate)
        {
            if (_store[plural].GetValueOrDefault(Key(ns, name)) is { } obj)
            {
                DeleteObject(plural, obj, "Background");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        CloseWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- HTTP ---------------------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ParsePath(ctx.Request.Path.Value ?? "");
        if (path?.Group == MetricsGroup)
        {
            await PodMetricsAsync(ctx, path);
            return;
        }

        if (path is null || !Kinds.TryGetValue(path.Plural, out var kind) || kind.Group != path.Group || kind.Version != path.Version)
        {
            await WriteStatus(ctx, 404, "NotFound", "the server could not find the requested resource");
            return;
        }

        bool watch = ctx.Request.Query["watch"] is var w && (w == "true" || w == "1");
        string verb = ctx.Request.Method switch
        {
            "GET" when path.Name is null => watch ? "watch" : "list",
            "GET" => "get",
            "POST" => "create",
            "DELETE" => "delete",
            "PATCH" => "patch",
            "PUT" => "update",
            _ => "unknown",
        };
        string resource = path.Plural + (path.Sub is null ? "" : "/" + path.Sub);
        _requests.AddOrUpdate($"{verb} {resource}", 1, (_, n) => n + 1);
        if (ctx.Request.Headers.TryGetValue("Impersonate-User", out var impersonated))
        {
            _impersonations.Enqueue($"{verb} {resource} as {impersonated} ({ctx.Request.Headers["Impersonate-Group"]})");
        }

        if (IsImpersonating(ctx))
        {
            if (await RefuseImpersonatedAsync(ctx, kind.Group, resource, verb, path.Namespace, path.Name))
            {
                return;
            }
        }
        else if ((!ServiceAccountMay(kind.Group, resource, verb, path.Namespace, path.Name) && !IsKubectl(ctx)) || _forbidden.ContainsKey($"{verb} {resource}"))
        {
            string target = path.Name is null ? $"{resource}{(kind.Group == "" ? "" : "." + kind.Group)}" : $"{path.Plural}{(kind.Group == "" ? "" : "." + kind.Group)} \"{path.Name}\"";
            await WriteStatus(ctx, 403, "Forbidden",
                $"{target} is forbidden: User \"{ServiceAccount}\" cannot {verb} resource \"{resource}\" in API group \"{kind.Group}\" in the namespace \"{path.Namespace}\"",
                new JsonObject { ["name"] = path.Name, ["group"] = kind.Group, ["kind"] = resource });
            return;
        }

        if (await FailWatchAsync(ctx, verb, kind, path.Namespace))
        {
            return;
        }

        if (kind.Group == "keda.sh" && !KedaInstalled)
        {
            // After authorization, as the API server does: the group is not served at all.
            await WriteStatus(ctx, 404, "NotFound", "the server could not find the requested resource");
            return;
        }

        bool exists;
        lock (_gate)
        {
            exists = _namespaces.Contains(path.Namespace);
        }

        if (!exists)
        {
            // A namespace that does not exist: its lists are empty, its objects absent.
            if (verb == "list")
            {
                await WriteJson(ctx, 200, ListOf(kind, []));
                return;
            }

            await WriteStatus(ctx, 404, "NotFound", $"namespaces \"{path.Namespace}\" not found");
            return;
        }

        switch (verb)
        {
            case "list":
                await ListAsync(ctx, kind, path.Namespace);
                break;
            case "watch":
                await WatchAsync(ctx, kind, path.Namespace);
                break;
            case "get" when path.Sub == "scale":
                await RespondLocked(ctx, () => ScaleOf(kind, path.Namespace, path.Name!));
                break;
            case "get" when path.Sub == "log":
                await LogAsync(ctx, path.Namespace, path.Name!);
                break;
            case "get":
                await RespondLocked(ctx, () => _store[kind.Plural].GetValueOrDefault(Key(path.Namespace, path.Name!)) is { } o ? (200, o.DeepClone()) : NotFound(kind, path.Name!));
                break;
            case "create":
                await CreateAsync(ctx, kind, path.Namespace);
                break;
            case "delete":
                await DeleteAsync(ctx, kind, path.Namespace, path.Name!);
                break;
            case "patch" or "update" when path.Sub == "scale":
                await ScaleAsync(ctx, kind, path.Namespace, path.Name!, verb);
                break;
            case "patch" when path.Sub == "status" && kind.Plural is "cronjobs" or "horizontalpodautoscalers":
                await PatchAsync(ctx, kind, path.Namespace, path.Name!, status: true);
                break;
            case "patch" when path.Sub is null:
                await PatchAsync(ctx, kind, path.Namespace, path.Name!);
                break;
            case "update" when path.Sub is null:
                await UpdateAsync(ctx, kind, path.Namespace, path.Name!);
                break;
            default:
                await WriteStatus(ctx, 405, "MethodNotAllowed", $"{verb} is not supported by the test double on {resource}");
                break;
        }
    }

    private async Task ListAsync(HttpContext ctx, ApiKind kind, string ns)
    {
        var selector = Selector.Parse(ctx.Request.Query["labelSelector"]);
        // Of the field selectors only metadata.name=NAME is applied, which every kind supports (apiserver's
        // pkg/registry/generic/matcher.go, ObjectMetaFieldsSet); others are ignored, as before (kubectl events sends some).
        string? named = ((string?)ctx.Request.Query["fieldSelector"] ?? "").Split(',', StringSplitOptions.TrimEntries)
            .FirstOrDefault(t => t.StartsWith("metadata.name=", StringComparison.Ordinal))?["metadata.name=".Length..];

        JsonObject list;
        lock (_gate)
        {
            list = ListOf(kind, InNamespace(kind.Plural, ns).Where(o => selector.Matches(o) && (named is null || Name(o) == named)).OrderBy(Name, StringComparer.Ordinal).Select(o => o.DeepClone()));
        }

        await WriteJson(ctx, 200, list);
    }

    private JsonObject ListOf(ApiKind kind, IEnumerable<JsonNode> items) => new()
    {
        ["kind"] = kind.Kind + "List",
        ["apiVersion"] = kind.ApiVersion,
        ["metadata"] = new JsonObject { ["resourceVersion"] = Interlocked.Read(ref _rv).ToString(CultureInfo.InvariantCulture) },
        ["items"] = new JsonArray([.. items]),
    };

    private async Task WatchAsync(HttpContext ctx, ApiKind kind, string ns)
    {
        var selector = Selector.Parse(ctx.Request.Query["labelSelector"]);
        string? rvText = ctx.Request.Query["resourceVersion"];
        int timeout = int.TryParse(ctx.Request.Query["timeoutSeconds"], out var t) ? t : 1800;
        bool bookmarks = ctx.Request.Query["allowWatchBookmarks"] == "true";
        long bookmarksSent;
        lock (_gate)
        {
            bookmarksSent = _bookmarks;
        }

        var close = _closeWatches.Token;
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.StartAsync();
        _watches[ctx] = true;
        try
        {
            long from;
            var initial = new List<string>();
            lock (_gate)
            {
                if (string.IsNullOrEmpty(rvText) || rvText == "0")
                {
                    // No version: the current state as ADDED events, then changes.
                    from = _rv;
                    initial.AddRange(InNamespace(kind.Plural, ns).Where(o => selector.Matches(o)).Select(o => EventLine("ADDED", o)));
                }
                else if (!long.TryParse(rvText, out from) || from < _tooOldBelow)
                {
                    // As the API server does after compaction: 200, one ERROR event with 410 Expired, then the end.
                    initial.Add(EventLine("ERROR", StatusObject(410, "Expired", $"too old resource version: {rvText} ({_tooOldBelow})")));
                    from = long.MaxValue;
                }
            }

            foreach (var line in initial)
            {
                await ctx.Response.WriteAsync(line, ctx.RequestAborted);
            }

            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            if (from == long.MaxValue)
            {
                return;
            }

            // One token for every way the watch ends: its timeout, the test closing watches, the client going away.
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(close, ctx.RequestAborted);
            ends.CancelAfter(TimeSpan.FromSeconds(timeout));
            var ended = Task.Delay(Timeout.Infinite, ends.Token);
            while (!ends.IsCancellationRequested)
            {
                var lines = new List<string>();
                Task changed;
                lock (_gate)
                {
                    changed = _changed.Task;
                    if (!_holdWatches)
                    {
                        foreach (var e in _history.Where(e => e.Rv > from))
                        {
                            if (e.Raw is not null)
                            {
                                lines.Add(e.Raw + "\n");
                            }
                            else if (e.Plural == kind.Plural && Ns(e.Object!) == ns && selector.Matches(e.Object!))
                            {
                                lines.Add(EventLine(e.Type!, e.Object!));
                            }

                            from = e.Rv;
                        }
                    }

                    if (_bookmarks != bookmarksSent)
                    {
                        bookmarksSent = _bookmarks;
                        if (bookmarks && !_holdWatches)
                        {
                            lines.Add(EventLine("BOOKMARK", new JsonObject
                            {
                                ["kind"] = kind.Kind,
                                ["apiVersion"] = kind.ApiVersion,
                                ["metadata"] = new JsonObject { ["resourceVersion"] = from.ToString(CultureInfo.InvariantCulture) },
                            }));
                        }
                    }
                }

                foreach (var line in lines)
                {
                    await ctx.Response.WriteAsync(line, ctx.RequestAborted);
                }

                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                await Task.WhenAny(changed, ended);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away, or the test dropped the connection.
        }
        finally
        {
            _watches.TryRemove(ctx, out _);
        }
    }

    private async Task CreateAsync(HttpContext ctx, ApiKind kind, string ns)
    {
        JsonObject obj;
        try
        {
            obj = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
        }
        catch (JsonException ex)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"the body of the request was in an unknown format: {ex.Message}");
            return;
        }

        if (obj["kind"]?.GetValue<string>() is { } k && k != kind.Kind)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"the API version in the data ({obj["apiVersion"]}) does not match the expected API version ({kind.ApiVersion})");
            return;
        }

        if (ValidateFields(ctx, kind, obj) is { } undecodable)
        {
            await WriteJson(ctx, undecodable.Item1, undecodable.Item2);
            return;
        }

        // apimachinery/pkg/apis/meta/v1/validation/validation.go (ValidateDryRun): "All" is the only value.
        var dryRun = ctx.Request.Query["dryRun"];
        if (dryRun.Count > 0 && dryRun.Any(v => v != "All"))
        {
            await WriteStatus(ctx, 422, "Invalid", $"CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{{\"{string.Join("\", \"", dryRun.ToArray())}\"}}: supported values: \"All\"");
            return;
        }

        if (dryRun.Count > 0)
        {
            _requests.AddOrUpdate($"dry-run create {kind.Plural}", 1, (_, n) => n + 1);
        }

        await RespondLocked(ctx, () => Create(kind, ns, obj, dryRun.Count > 0));
    }

    /// <summary>
    /// A create, or its dry run: validated, admitted and checked against the store the same way, but with nothing stored
    /// (apiserver/pkg/registry/generic/registry/dryrun.go, DryRunnableStorage.Create: an existing key is still
    /// AlreadyExists, else the object is answered as it would be created, 201, without a resourceVersion).
    /// </summary>
    private (int, JsonNode) Create(ApiKind kind, string ns, JsonObject obj, bool dryRun = false)
    {
        obj["apiVersion"] = kind.ApiVersion;
        obj["kind"] = kind.Kind;
        var meta = (obj["metadata"] ??= new JsonObject()).AsObject();
        string name = meta["name"]?.GetValue<string>() ?? "";
        var causes = new List<(string Field, string Message)>();
        int max = kind.Plural switch { "jobs" => 63, "cronjobs" => 52, _ => 253 };
        if (name.Length == 0)
        {
            causes.Add(("metadata.name", "Required value: name or generateName is required"));
        }
        else if (!Dns1123Subdomain().IsMatch(name))
        {
            causes.Add(("metadata.name", $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
        }
        else if (name.Length > max)
        {
            causes.Add(("metadata.name", $"Invalid value: \"{name}\": must be no more than {max} characters"));
        }

        if (meta["resourceVersion"] is not null)
        {
            causes.Add(("metadata.resourceVersion", "Invalid value: must be empty on create"));
        }

        string uid = Guid.NewGuid().ToString();
        if (kind.Plural == "jobs")
        {
            ValidateJob(obj, uid, causes);
        }
        else if (kind.Plural == "cronjobs")
        {
            ValidateCronJob(obj, causes);
        }
        else if (kind.Plural == "horizontalpodautoscalers")
        {
            ValidateAutoscaler(obj, causes);
        }

        if (causes.Count > 0)
        {
            return Invalid(kind, name, causes);
        }

        if (meta["namespace"]?.GetValue<string>() is { } other && other != ns)
        {
            return (400, StatusObject(400, "BadRequest", $"the namespace of the provided object ({other}) does not match the namespace sent on the request ({ns})"));
        }

        // apiserver/pkg/registry/generic/registry/store.go (Create): validating admission (quota, webhooks) runs
        // after the strategy's validation and before the storage's AlreadyExists, on dry runs too.
        if (Admit(kind, name, dryRun) is { } refused)
        {
            return refused;
        }

        if (_store[kind.Plural].ContainsKey(Key(ns, name)))
        {
            return (409, StatusObject(409, "AlreadyExists", $"{kind.Resource} \"{name}\" already exists",
                new JsonObject { ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Plural }));
        }

        meta["namespace"] = ns;
        meta["uid"] = uid;
        meta["creationTimestamp"] = Now();
        meta["generation"] = 1;
        if (dryRun)
        {
            if (kind.Plural == "jobs")
            {
                DefaultJob(obj, uid);
            }

            return (201, obj.DeepClone());
        }

        switch (kind.Plural)
        {
            case "jobs":
                DefaultJob(obj, uid);
                Put("jobs", obj, "ADDED");
                StartJobPods(obj);
                break;
            case "cronjobs":
                DefaultCronJob(obj);
                obj["status"] = new JsonObject();
                Put("cronjobs", obj, "ADDED");
                break;
            case "horizontalpodautoscalers":
                obj["status"] = new JsonObject
                {
                    ["currentReplicas"] = 0,
                    ["desiredReplicas"] = 0,
                    ["conditions"] = new JsonArray(Condition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale")),
                };
                Put("horizontalpodautoscalers", obj, "ADDED");
                break;
            case "deployments":
                Put("deployments", obj, "ADDED");
                ReconcileDeployment(obj);
                break;
            default:
                Put(kind.Plural, obj, "ADDED");
                break;
        }

        return (201, _store[kind.Plural][Key(ns, name)].DeepClone());
    }

    private static void ValidateJob(JsonObject job, string uid, List<(string, string)> causes)
    {
        var spec = job["spec"]?.AsObject();
        if (spec?["template"]?["spec"]?["containers"] is not JsonArray { Count: > 0 })
        {
            causes.Add(("spec.template.spec.containers", "Required value"));
        }

        string? restart = spec?["template"]?["spec"]?["restartPolicy"]?.GetValue<string>();
        if (restart is not ("OnFailure" or "Never"))
        {
            causes.Add(("spec.template.spec.restartPolicy", $"Required value: valid values: \"OnFailure\", \"Never\""));
        }

        bool manual = spec?["manualSelector"]?.GetValue<bool>() == true;
        if (spec?["selector"] is JsonObject given && !manual)
        {
            // pkg/registry/batch/job/strategy.go (generateSelector) adds the controller-uid label to the selector given
            // and the generated labels to the template; pkg/apis/batch/validation/validation.go then refuses a selector
            // other than the generated one, and one the template's labels do not match. The values are printed as
            // apimachinery/pkg/util/validation/field/errors.go prints them (Go's %#v; maps with sorted keys).
            var selector = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["batch.kubernetes.io/controller-uid"] = uid };
            foreach (var (k, v) in given["matchLabels"]?.AsObject() ?? [])
            {
                // A controller-uid given stays (generateSelector adds it only when absent).
                selector[k] = v!.GetValue<string>();
            }

            string name = job["metadata"]?["name"]?.GetValue<string>() ?? "";
            var expected = new Dictionary<string, string>
            {
                ["batch.kubernetes.io/controller-uid"] = uid, ["batch.kubernetes.io/job-name"] = name, ["controller-uid"] = uid, ["job-name"] = name,
            };
            if (selector.Any(kv => expected.GetValueOrDefault(kv.Key) != kv.Value))
            {
                var template = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    ["batch.kubernetes.io/controller-uid"] = uid, ["batch.kubernetes.io/job-name"] = name, ["controller-uid"] = uid, ["job-name"] = name,
                };
                foreach (var (k, v) in spec["template"]?["metadata"]?["labels"]?.AsObject() ?? [])
                {
                    template[k] = v!.GetValue<string>();
                }

                causes.Add(("spec.selector", $"Invalid value: v1.LabelSelector{{MatchLabels:{GoMap(selector)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: `selector` not auto-generated"));
                if (selector.Any(kv => template.GetValueOrDefault(kv.Key) != kv.Value))
                {
                    causes.Add(("spec.template.metadata.labels", $"Invalid value: {GoMap(template)}: `selector` does not match template `labels`"));
                }
            }
        }

        // The generated selector matches the new uid: a template still carrying an old Job's uid cannot match it.
        var labels = spec?["template"]?["metadata"]?["labels"]?.AsObject();
        foreach (var key in new[] { "controller-uid", "batch.kubernetes.io/controller-uid" })
        {
            if (!manual && labels?[key]?.GetValue<string>() is { } old && old != uid)
            {
                causes.Add(("spec.template.metadata.labels", $"Invalid value: {{\"{key}\":\"{old}\"}}: `selector` does not match template `labels`"));
            }
        }

        if (spec?["parallelism"]?.GetValue<int>() is < 0)
        {
            causes.Add(("spec.parallelism", "Invalid value: must be greater than or equal to 0"));
        }
    }

    private static string GoMap(SortedDictionary<string, string> map) =>
        "map[string]string{" + string.Join(", ", map.Select(kv => $"\"{kv.Key}\":\"{kv.Value}\"")) + "}";

    private static void ValidateCronJob(JsonObject cron, List<(string, string)> causes)
    {
        string schedule = cron["spec"]?["schedule"]?.GetValue<string>() ?? "";
        if (schedule.Length == 0)
        {
            causes.Add(("spec.schedule", "Required value"));
        }
        else if (CronError(schedule) is { } error)
        {
            causes.Add(("spec.schedule", $"Invalid value: \"{schedule}\": {error}"));
        }

        if (schedule.Contains("TZ", StringComparison.Ordinal))
        {
            causes.Add(("spec.schedule", $"Invalid value: \"{schedule}\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }

        if (cron["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]?["containers"] is not JsonArray { Count: > 0 })
        {
            causes.Add(("spec.jobTemplate.spec.template.spec.containers", "Required value"));
        }
    }

    private static void ValidateAutoscaler(JsonObject hpa, List<(string, string)> causes)
    {
        var spec = hpa["spec"]?.AsObject();
        if (spec?["scaleTargetRef"]?["name"] is null)
        {
            causes.Add(("spec.scaleTargetRef.name", "Required value"));
        }

        int max = spec?["maxReplicas"]?.GetValue<int>() ?? 0;
        int min = spec?["minReplicas"]?.GetValue<int>() ?? 1;
        if (max < 1)
        {
            causes.Add(("spec.maxReplicas", "Invalid value: must be greater than or equal to 1"));
        }
        else if (min > max)
        {
            causes.Add(("spec.maxReplicas", $"Invalid value: {max}: must be greater than or equal to `minReplicas`"));
        }
    }

    private static void DefaultJob(JsonObject job, string uid)
    {
        var spec = job["spec"]!.AsObject();
        string name = Name(job);
        spec["parallelism"] ??= 1;
        spec["backoffLimit"] ??= 6;
        spec["completionMode"] ??= "NonIndexed";
        spec["suspend"] ??= false;
        if (spec["manualSelector"]?.GetValue<bool>() != true)
        {
            spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
            var template = spec["template"]!.AsObject();
            var labels = ((template["metadata"] ??= new JsonObject())["labels"] ??= new JsonObject()).AsObject();
            labels["controller-uid"] = uid;
            labels["batch.kubernetes.io/controller-uid"] = uid;
            labels["job-name"] = name;
            labels["batch.kubernetes.io/job-name"] = name;
        }

        job["status"] = new JsonObject { ["startTime"] = Now(), ["active"] = 0 };
    }

    // The Job controller's first step: parallelism pods (no more than completions), running and ready.
    private void StartJobPods(JsonObject job)
    {
        var spec = job["spec"]!;
        int parallelism = spec["parallelism"]!.GetValue<int>();
        int count = Math.Min(parallelism, spec["completions"]?.GetValue<int>() ?? parallelism);
        var template = spec["template"]!.AsObject();
        for (int i = 0; i < count; i++)
        {
            var pod = Pod($"{Name(job)}-{Suffix()}", Ns(job), template, Owner("batch/v1", "Job", job));
            Put("pods", pod, "ADDED");
        }

        var copy = job.DeepClone().AsObject();
        copy["status"]!["active"] = count;
        copy["status"]!["ready"] = count;
        Put("jobs", copy, "MODIFIED");
    }

    private async Task DeleteAsync(HttpContext ctx, ApiKind kind, string ns, string name)
    {
        string? policy = ctx.Request.Query["propagationPolicy"];
        long? grace = long.TryParse(ctx.Request.Query["gracePeriodSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : null;
        if (ctx.Request.ContentLength > 0 || ctx.Request.Headers.ContentType.Count > 0)
        {
            try
            {
                var body = await JsonNode.ParseAsync(ctx.Request.Body);
                policy ??= body?["propagationPolicy"]?.GetValue<string>();
                grace ??= body?["gracePeriodSeconds"]?.GetValue<long>();
                if (body?["orphanDependents"]?.GetValue<bool>() is { } orphan)
                {
                    policy ??= orphan ? "Orphan" : "Background";
                }
            }
            catch (JsonException)
            {
            }
        }

        // The API's default: batch/v1 Jobs orphan their pods (why kubectl asks for Background); the rest cascade.
        policy ??= kind.Plural == "jobs" ? "Orphan" : "Background";
        await RespondLocked(ctx, () =>
        {
            if (_store[kind.Plural].GetValueOrDefault(Key(ns, name)) is not { } obj)
            {
                return NotFound(kind, name);
            }

            if (DeleteObject(kind.Plural, obj, policy, grace) is { } answer)
            {
                return (200, answer);
            }

            return (200, StatusObject(200, null, null, new JsonObject { ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Plural, ["uid"] = obj["metadata"]!["uid"]!.GetValue<string>() }, "Success"));
        });
    }

    /// <param name="status">
    /// A PATCH of the status subresource, as a controller writes status (and `kubectl patch --subresource=status`): only
    /// status changes. The status strategies put the stored spec back (PrepareForUpdate in
    /// pkg/registry/batch/cronjob/strategy.go and pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go:
    /// `newObj.Spec = oldObj.Spec`) and metadata stays as stored; the object gets a new resourceVersion, its generation
    /// does not move.
    /// </param>
    private async Task PatchAsync(HttpContext ctx, ApiKind kind, string ns, string name, bool status = false)
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
            // A patch that sets metadata.resourceVersion makes it a precondition of the update: the patched object
            // keeps that version and the store refuses it when the stored one differs (apiserver/pkg/endpoints/handlers/
            // patch.go applies the patch onto the current object; registry/generic/registry/store.go Update answers
            // NewConflict(..., OptimisticLockErrorMsg), apimachinery/pkg/api/errors/errors.go).
            if (patched["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } wanted
                && wanted != obj["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                return Conflict(kind, name);
            }

            if (status)
            {
                var updated = obj.DeepClone().AsObject();
                updated["status"] = patched["status"]?.DeepClone();
                Put(kind.Plural, updated, "MODIFIED");
                return (200, updated.DeepClone());
            }

            // Identity and server-set metadata stay; status is not patched through the main resource.
            patched["metadata"]!["name"] = name;
            patched["metadata"]!["uid"] = obj["metadata"]!["uid"]!.DeepClone();
            patched["metadata"]!["namespace"] = ns;
            patched["status"] = obj["status"]?.DeepClone();
            KeepDeletion(patched, obj);
            var causes = new List<(string, string)>();
            if (kind.Plural == "cronjobs")
            {
                ValidateCronJob(patched, causes);
            }
            else if (kind.Plural == "horizontalpodautoscalers")
            {
                ValidateAutoscaler(patched, causes);
            }
            else if (kind.Plural == "jobs" && !JsonNode.DeepEquals(patched["spec"]?["template"], obj["spec"]?["template"]))
            {
                causes.Add(("spec.template", "Invalid value: field is immutable"));
            }

            if (causes.Count > 0)
            {
                return Invalid(kind, name, causes);
            }

            patched["metadata"]!["generation"] = (obj["metadata"]!["generation"]?.GetValue<int>() ?? 1) + (JsonNode.DeepEquals(patched["spec"], obj["spec"]) ? 0 : 1);
            Put(kind.Plural, patched, "MODIFIED");
            if (kind.Plural == "deployments")
            {
                ReconcileDeployment(patched);
            }

            FinishIfUnblocked(kind.Plural, patched);
            return (200, (_store[kind.Plural].GetValueOrDefault(Key(ns, name)) ?? patched).DeepClone());
        });
    }

    // pkg/apis/batch/v1/defaults.go (SetDefaults_CronJob), applied to every object decoded, on create and update alike.
    private static void DefaultCronJob(JsonObject obj)
    {
        var spec = obj["spec"]!.AsObject();
        spec["suspend"] ??= false;
        spec["concurrencyPolicy"] ??= "Allow";
        spec["successfulJobsHistoryLimit"] ??= 3;
        spec["failedJobsHistoryLimit"] ??= 1;
    }

    /// <summary>
    /// PUT of the whole object (kubectl replace). As the API server: the body's name must be the URL's (400, from
    /// checkName in apiserver/pkg/endpoints/handlers/rest.go); a resourceVersion in the body is a precondition (409, as
    /// for a patch), and without one the update is unconditional, which the batch and autoscaling strategies allow
    /// (AllowUnconditionalUpdate); the object is defaulted as decoded; its status stays as stored (the strategies'
    /// PrepareForUpdate copy the old status), and its generation moves when its spec does.
    /// </summary>
    private async Task UpdateAsync(HttpContext ctx, ApiKind kind, string ns, string name)
    {
        JsonObject body;
        try
        {
            body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
        }
        catch (JsonException ex)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"the body of the request was in an unknown format: {ex.Message}");
            return;
        }

        if (body["kind"]?.GetValue<string>() is { } k && k != kind.Kind)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"the API version in the data ({body["apiVersion"]}) does not match the expected API version ({kind.ApiVersion})");
            return;
        }

        if (body["metadata"]?["name"]?.GetValue<string>() is { } given && given != name)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"the name of the object ({given}) does not match the name on the URL ({name})");
            return;
        }

        if (ValidateFields(ctx, kind, body) is { } undecodable)
        {
            await WriteJson(ctx, undecodable.Item1, undecodable.Item2);
            return;
        }

        await RespondLocked(ctx, () =>
        {
            if (_store[kind.Plural].GetValueOrDefault(Key(ns, name)) is not { } obj)
            {
                return NotFound(kind, name);
            }

            if (body["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } wanted
                && wanted != obj["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                return Conflict(kind, name);
            }

            var updated = body.DeepClone().AsObject();
            updated["apiVersion"] = kind.ApiVersion;
            updated["kind"] = kind.Kind;
            var meta = (updated["metadata"] ??= new JsonObject()).AsObject();
            meta["name"] = name;
            meta["namespace"] = ns;
            meta["uid"] = obj["metadata"]!["uid"]!.DeepClone();
            meta["creationTimestamp"] = obj["metadata"]!["creationTimestamp"]?.DeepClone();
            updated["status"] = obj["status"]?.DeepClone();
            KeepDeletion(updated, obj);
            var causes = new List<(string, string)>();
            if (kind.Plural == "cronjobs")
            {
                if (updated["spec"] is JsonObject)
                {
                    DefaultCronJob(updated);
                }

                ValidateCronJob(updated, causes);
            }
            else if (kind.Plural == "horizontalpodautoscalers")
            {
                ValidateAutoscaler(updated, causes);
            }
            else if (kind.Plural == "jobs" && !JsonNode.DeepEquals(updated["spec"]?["template"], obj["spec"]?["template"]))
            {
                causes.Add(("spec.template", "Invalid value: field is immutable"));
            }

            if (causes.Count > 0)
            {
                return Invalid(kind, name, causes);
            }

            meta["generation"] = (obj["metadata"]!["generation"]?.GetValue<int>() ?? 1) + (JsonNode.DeepEquals(updated["spec"], obj["spec"]) ? 0 : 1);
            Put(kind.Plural, updated, "MODIFIED");
            if (kind.Plural == "deployments")
            {
                ReconcileDeployment(updated);
            }

            FinishIfUnblocked(kind.Plural, updated);
            return (200, (_store[kind.Plural].GetValueOrDefault(Key(ns, name)) ?? updated).DeepClone());
        });
    }

    private async Task ScaleAsync(HttpContext ctx, ApiKind kind, string ns, string name, string verb)
    {
        var body = (await JsonNode.ParseAsync(ctx.Request.Body))!;
        string type = ctx.Request.ContentType?.Split(';')[0].Trim() ?? "";
        if (verb == "patch" && type is not ("application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            await WriteStatus(ctx, 415, "UnsupportedMediaType", $"the test double supports merge and strategic merge patches, not {type}");
            return;
        }

        await RespondLocked(ctx, () =>
        {
            if (kind.Plural != "deployments" || _store["deployments"].GetValueOrDefault(Key(ns, name)) is null)
            {
                return NotFound(kind, name);
            }

            var (_, current) = ScaleOf(kind, ns, name);
            var wanted = verb == "patch" ? Merge(current.DeepClone(), body, false)! : body;
            int replicas = wanted["spec"]?["replicas"]?.GetValue<int>() ?? 0;
            if (replicas < 0)
            {
                return Invalid(kind, name, [("spec.replicas", $"Invalid value: {replicas}: must be greater than or equal to 0")]);
            }

            var dep = _store["deployments"][Key(ns, name)].DeepClone().AsObject();
            dep["spec"]!["replicas"] = replicas;
            dep["metadata"]!["generation"] = dep["metadata"]!["generation"]!.GetValue<int>() + 1;
            Put("deployments", dep, "MODIFIED");
            ReconcileDeployment(dep);
            return ScaleOf(kind, ns, name);
        });
    }

    private (int, JsonNode) ScaleOf(ApiKind kind, string ns, string name)
    {
        if (kind.Plural != "deployments" || _store["deployments"].GetValueOrDefault(Key(ns, name)) is not { } dep)
        {
            return NotFound(kind, name);
        }

        var labels = dep["spec"]!["selector"]!["matchLabels"]!.AsObject();
        return (200, new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["uid"] = dep["metadata"]!["uid"]!.DeepClone(), ["resourceVersion"] = dep["metadata"]!["resourceVersion"]!.DeepClone() },
            ["spec"] = new JsonObject { ["replicas"] = dep["spec"]!["replicas"]!.DeepClone() },
            ["status"] = new JsonObject { ["replicas"] = dep["status"]?["replicas"]?.DeepClone() ?? 0, ["selector"] = string.Join(",", labels.Select(l => $"{l.Key}={l.Value}")) },
        });
    }

    private async Task LogAsync(HttpContext ctx, string ns, string name)
    {
        bool exists;
        lock (_gate)
        {
            exists = _store["pods"].ContainsKey(Key(ns, name));
        }

        if (!exists)
        {
            await WriteStatus(ctx, 404, "NotFound", $"pods \"{name}\" not found");
            return;
        }

        var (container, refused) = LogContainer(ns, name, ctx.Request.Query["container"]);
        if (refused is not null)
        {
            await WriteStatus(ctx, 400, "BadRequest", refused);
            return;
        }

        // A sidecar's lines are its own (WriteLog with its name); the pod's lines are its own container's.
        var log = IsSidecar(ns, name, container!) ? PodLog($"{name}/{container}") : PodLog(name);
        bool follow = ctx.Request.Query["follow"] == "true";
        bool previous = ctx.Request.Query["previous"] == "true";
        if (previous && follow)
        {
            await WriteStatus(ctx, 400, "BadRequest", "previous and follow cannot be combined");
            return;
        }

        if (previous && log.Previous is null)
        {
            // The API server's answer for a container that never restarted.
            await WriteStatus(ctx, 400, "BadRequest", $"previous terminated container \"{container}\" in pod \"{name}\" not found");
            return;
        }

        bool timestamps = ctx.Request.Query["timestamps"] == "true";
        int? tail = int.TryParse(ctx.Request.Query["tailLines"], out int t) ? t : null;
        int? sinceSeconds = int.TryParse(ctx.Request.Query["sinceSeconds"], out int ss) ? ss : null;
        // sinceTime is RFC3339 (metav1.Time); the later of it and sinceSeconds wins, and a line is sent when its
        // timestamp is not before it (NewLogOptions and logWriter.write in pkg/kubelet/kuberuntime/logs/logs.go).
        DateTime? sinceTime = DateTimeOffset.TryParse(ctx.Request.Query["sinceTime"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var st) ? st.UtcDateTime : null;
        if (ctx.Request.Query.ContainsKey("sinceTime") && sinceTime is null)
        {
            await WriteStatus(ctx, 400, "BadRequest", $"parsing time \"{ctx.Request.Query["sinceTime"]}\" as \"2006-01-02T15:04:05Z07:00\"");
            return;
        }

        if (_logFault is var fault and not 0)
        {
            await WriteStatus(ctx, fault, fault == 503 ? "ServiceUnavailable" : "InternalError", "pods/log refused on demand");
            return;
        }

        ctx.Response.ContentType = "text/plain";
        CancellationToken containerEnded;
        lock (log)
        {
            containerEnded = log.Ended.Token;
        }

        using var drop = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _dropLogs.Token, containerEnded);
        if (follow)
        {
            Interlocked.Increment(ref _openLogStreams);
        }

        try
        {
            int sent;
            List<(DateTime At, string Text)> first;
            lock (log)
            {
                var since = sinceSeconds is { } sec ? DateTime.UtcNow.AddSeconds(-sec) : DateTime.MinValue;
                if (sinceTime is { } time && time > since)
                {
                    since = time;
                }
                first = (previous ? log.Previous! : log.Lines).Where(l => l.At >= since).ToList();
                sent = log.Lines.Count;
            }

            if (tail is { } n)
            {
                first = first.Skip(Math.Max(0, first.Count - n)).ToList();
            }

            // What the container wrote so far is sent even when it has stopped; only following ends with it.
            foreach (var (at, text) in first)
            {
                await ctx.Response.WriteAsync(Line(at, text, timestamps), ctx.RequestAborted);
            }

            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            while (follow && !drop.IsCancellationRequested)
            {
                Task changed;
                List<(DateTime At, string Text)> next;
                lock (log)
                {
                    next = log.Lines.Skip(sent).ToList();
                    sent = log.Lines.Count;
                    changed = log.Changed.Task;
                }

                foreach (var (at, text) in next)
                {
                    await ctx.Response.WriteAsync(Line(at, text, timestamps), drop.Token);
                }

                await ctx.Response.Body.FlushAsync(drop.Token);
                await changed.WaitAsync(drop.Token);
            }
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            // The server ends the stream (an API server restart, or the container stopped): a clean end of the body.
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (follow)
            {
                Interlocked.Decrement(ref _openLogStreams);
            }
        }
    }

    private static string Line(DateTime at, string text, bool timestamps) =>
        timestamps ? at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + " " + text + "\n" : text + "\n";

    // A worker's log starts with the worker's first lines; a sidecar's ("POD/CONTAINER") with nothing.
    private PodLogState PodLog(string pod) => _podLogs.GetOrAdd(pod, name =>
    {
        var state = new PodLogState();
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return state;
        }

        state.Lines.Add((DateTime.UtcNow, $"starting {name}"));
        state.Lines.Add((DateTime.UtcNow, "waiting for tasks"));
        return state;
    });

    /// <summary>The pod writes a line to its log; followers get it at once.</summary>
    /// <summary>A line the pod's own container writes, or, with <paramref name="sidecar"/>, the line that sidecar writes.</summary>
    public void WriteLog(string pod, string text, string? sidecar = null)
    {
        var log = PodLog(sidecar is null ? pod : $"{pod}/{sidecar}");
        lock (log)
        {
            log.Lines.Add((DateTime.UtcNow, text));
            var changed = log.Changed;
            log.Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }

    /// <summary>Ends every open pods/log stream from the server's side.</summary>
    public void EndLogStreams()
    {
        var old = _dropLogs;
        _dropLogs = new CancellationTokenSource();
        old.Cancel();
    }

    /// <summary>
    /// pods/log requests are answered with this code (e.g. 503 while the API server or the node is away) until
    /// <see cref="AllowLogs"/>; refused requests count in "get pods/log" as others do.
    /// </summary>
    public void RefuseLogs(int code) => _logFault = code;

    public void AllowLogs() => _logFault = 0;

    /// <summary>The sinceTime of every pods/log request that carried one, as sent.</summary>
    public IReadOnlyList<string> LogSinceTimes => [.. Recorded.Where(r => r.Path.EndsWith("/log", StringComparison.Ordinal))
        .Select(r => System.Web.HttpUtility.ParseQueryString(r.Query)["sinceTime"]).OfType<string>()];

    /// <summary>pods/log requests with follow=true open now.</summary>
    public int OpenLogStreams => Volatile.Read(ref _openLogStreams);

    /// <summary>Requests made as another user: "verb resource as USER (GROUP)".</summary>
    public IReadOnlyList<string> Impersonations => [.. _impersonations];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PodLogState> _podLogs = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _impersonations = new();
    private CancellationTokenSource _dropLogs = new();
    private volatile int _logFault;
    private int _openLogStreams;

    private sealed class PodLogState
    {
        public List<(DateTime At, string Text)> Lines { get; } = [];

        /// <summary>The log of the container before the last restart; null until the pod restarts.</summary>
        public List<(DateTime At, string Text)>? Previous { get; set; }

        /// <summary>Cancelled when the current container stops, ending its follow streams.</summary>
        public CancellationTokenSource Ended { get; set; } = new();

        public TaskCompletionSource Changed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // ---- Controllers and garbage collection (under the lock) ------------------------------------------------------

    // The Deployment controller, collapsed: pods with the template's labels until there are spec.replicas of them.
    private void ReconcileDeployment(JsonObject dep)
    {
        int desired = dep["spec"]!["replicas"]?.GetValue<int>() ?? 1;
        var selector = dep["spec"]!["selector"]!.AsObject();
        // controller.FilterActivePods: a pod being deleted no longer counts towards the replicas.
        var pods = InNamespace("pods", Ns(dep)).Where(p => Selector.FromLabelSelector(selector).Matches(p) && Owners(p).Any(o => o["kind"]?.GetValue<string>() == "ReplicaSet") && !IsDeleting(p))
            .OrderBy(p => p["metadata"]!["creationTimestamp"]!.GetValue<string>()).ThenBy(Name, StringComparer.Ordinal).ToList();
        string hash = "7d9f8b6c5";
        var template = dep["spec"]!["template"]!.AsObject();
        var owner = new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = $"{Name(dep)}-{hash}",
            ["uid"] = $"rs-{dep["metadata"]!["uid"]}", ["controller"] = true, ["blockOwnerDeletion"] = true,
        };
        for (int i = pods.Count; i < desired; i++)
        {
            var pod = Pod($"{Name(dep)}-{hash}-{Suffix()}", Ns(dep), template, owner);
            pod["metadata"]!["labels"]!["pod-template-hash"] = hash;
            Put("pods", pod, "ADDED");
        }

        foreach (var extra in pods.Skip(desired).Reverse())
        {
            DeleteObject("pods", extra, "Background");
        }

        int count = Math.Min(desired, Math.Max(pods.Count, desired));
        var copy = _store["deployments"][Key(dep)].DeepClone().AsObject();
        copy["status"] = new JsonObject
        {
            ["observedGeneration"] = copy["metadata"]!["generation"]?.GetValue<int>() ?? 1,
            ["replicas"] = count, ["updatedReplicas"] = count, ["readyReplicas"] = count, ["availableReplicas"] = count,
        };
        if (!JsonNode.DeepEquals(copy["status"], _store["deployments"][Key(dep)]["status"]))
        {
            Put("deployments", copy, "MODIFIED");
        }
    }

    private IEnumerable<JsonObject> Dependents(JsonObject owner) =>
        _store["pods"].Values.Where(p => Owners(p).Any(o => o["uid"]?.GetValue<string>() == Uid(owner))).ToList();

    private static IEnumerable<JsonObject> Owners(JsonObject obj) =>
        obj["metadata"]?["ownerReferences"] is JsonArray refs ? refs.OfType<JsonObject>() : [];

    private static JsonObject Owner(string apiVersion, string kind, JsonObject owner) => new()
    {
        ["apiVersion"] = apiVersion, ["kind"] = kind, ["name"] = Name(owner), ["uid"] = Uid(owner), ["controller"] = true, ["blockOwnerDeletion"] = true,
    };

    private static JsonObject Pod(string name, string ns, JsonObject template, JsonObject owner)
    {
        var spec = template["spec"]!.DeepClone().AsObject();
        spec["nodeName"] = "node-1";
        var container = spec["containers"]![0]!;
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["creationTimestamp"] = Now(),
                ["labels"] = template["metadata"]?["labels"]?.DeepClone() ?? new JsonObject(),
                ["ownerReferences"] = new JsonArray(owner.DeepClone()),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["startTime"] = Now(),
                ["conditions"] = new JsonArray(Condition("PodScheduled", "True", null, null), Condition("Ready", "True", null, null)),
                ["containerStatuses"] = new JsonArray(new JsonObject
                {
                    ["name"] = container["name"]!.DeepClone(),
                    ["image"] = container["image"]?.DeepClone(),
                    ["imageID"] = "",
                    ["ready"] = true,
                    ["started"] = true,
                    ["restartCount"] = 0,
                    ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Now() } },
                }),
            },
        };
    }

    private static void SetPodPhase(JsonObject pod, string phase)
    {
        pod["status"]!["phase"] = phase;
        pod["status"]!["conditions"] = new JsonArray(Condition("PodScheduled", "True", null, null), Condition("Ready", "False", "PodCompleted", null));
        var cs = pod["status"]!["containerStatuses"]![0]!.AsObject();
        cs["ready"] = false;
        cs["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = phase == "Succeeded" ? 0 : 1, ["reason"] = phase == "Succeeded" ? "Completed" : "Error", ["finishedAt"] = Now() } };
    }

    // ---- Store --------------------------------------------------------------------------------------------------

    private long NextRv() => Interlocked.Increment(ref _rv);

    // Under the lock: stores the object with a new resourceVersion and records the event.
    private void Put(string plural, JsonObject obj, string type)
    {
        long rv = NextRv();
        obj["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        if (type != "DELETED")
        {
            _store[plural][Key(obj)] = obj;
        }

        Record(new Entry(rv, plural, type, obj.DeepClone().AsObject(), null));
    }

    private void Record(Entry entry)
    {
        lock (_gate)
        {
            _history.Add(entry);
            if (_history.Count > 20_000)
            {
                _history.RemoveRange(0, 10_000);
                _tooOldBelow = Math.Max(_tooOldBelow, _history[0].Rv);
            }

            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private async Task RespondLocked(HttpContext ctx, Func<(int Code, JsonNode Body)> handle)
    {
        (int code, JsonNode body) result;
        lock (_gate)
        {
            result = handle();
        }

        await WriteJson(ctx, result.code, result.body);
    }

    private static (int, JsonNode) NotFound(ApiKind kind, string name) =>
        (404, StatusObject(404, "NotFound", $"{kind.Resource} \"{name}\" not found", new JsonObject { ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Plural }));

    private static (int, JsonNode) Invalid(ApiKind kind, string name, List<(string Field, string Message)> causes) =>
        (422, StatusObject(422, "Invalid",
            $"{kind.Kind}.{(kind.Group == "" ? "" : kind.Group)} \"{name}\" is invalid: " + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}")),
            new JsonObject
            {
                ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Kind,
                ["causes"] = new JsonArray([.. causes.Select(c => (JsonNode)new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = c.Message, ["field"] = c.Field })]),
            }));

    // apimachinery/pkg/api/errors/errors.go NewConflict with registry/generic/registry/store.go's OptimisticLockErrorMsg.
    private static (int, JsonNode) Conflict(ApiKind kind, string name) =>
        (409, StatusObject(409, "Conflict",
            $"Operation cannot be fulfilled on {kind.Resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            new JsonObject { ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Plural }));

    private static JsonObject StatusObject(int code, string? reason, string? message, JsonObject? details = null, string status = "Failure")
    {
        var s = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = status };
        if (message is not null)
        {
            s["message"] = message;
        }

        if (reason is not null)
        {
            s["reason"] = reason;
        }

        if (details is not null)
        {
            s["details"] = details;
        }

        s["code"] = code;
        return s;
    }

    private static Task WriteStatus(HttpContext ctx, int code, string reason, string message, JsonObject? details = null) =>
        WriteJson(ctx, code, StatusObject(code, reason, message, details));

    private static async Task WriteJson(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static string EventLine(string type, JsonNode obj) =>
        new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n";

    /// <summary>RFC 7386 merge patch; strategic merges lists of named objects (containers, env) by name.</summary>
    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (patch is JsonArray patchList && strategic && target is JsonArray targetList
            && patchList.All(p => p?["name"] is not null) && targetList.All(t => t?["name"] is not null))
        {
            var merged = targetList.DeepClone().AsArray();
            foreach (var item in patchList)
            {
                string name = item!["name"]!.GetValue<string>();
                var existing = merged.FirstOrDefault(m => m!["name"]!.GetValue<string>() == name);
                if (existing is null)
                {
                    merged.Add(item.DeepClone());
                }
                else
                {
                    int at = merged.IndexOf(existing);
                    merged[at] = Merge(existing.DeepClone(), item, true);
                }
            }

            return merged;
        }

        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Merge(result[key]?.DeepClone(), value, strategic);
            }
        }

        return result;
    }

    private static JsonObject Condition(string type, string status, string? reason, string? message)
    {
        var c = new JsonObject { ["type"] = type, ["status"] = status, ["lastTransitionTime"] = Now() };
        if (reason is not null)
        {
            c["reason"] = reason;
        }

        if (message is not null)
        {
            c["message"] = message;
        }

        return c;
    }

    private static JsonObject Deployment(string name, int replicas) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["generation"] = 1, ["labels"] = new JsonObject { ["app.kubernetes.io/component"] = "worker" } },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject
                {
                    // The chart's worker resources (values.yaml worker.resources): the CPU request is what utilisation is of.
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "pi-container", ["image"] = "piops-worker:0.1.0",
                        // The chart's piops.redisEnv with its in-chart Redis (charts/piops/templates/_helpers.tpl).
                        ["env"] = new JsonArray(
                            new JsonObject { ["name"] = "REDIS_HOST", ["value"] = "redis" },
                            new JsonObject { ["name"] = "REDIS_PORT", ["value"] = "6379" },
                            new JsonObject { ["name"] = "QUEUE_NAME", ["value"] = "queue:task" }),
                        ["resources"] = new JsonObject
                        {
                            ["requests"] = new JsonObject { ["cpu"] = "250m", ["memory"] = "250Mi" },
                            ["limits"] = new JsonObject { ["cpu"] = "250m", ["memory"] = "250Mi" },
                        },
                    }),
                },
            },
        },
    };

    private static string Name(JsonNode obj) => obj["metadata"]!["name"]!.GetValue<string>();

    private static string Ns(JsonNode obj) => obj["metadata"]!["namespace"]!.GetValue<string>();

    // Objects are stored by namespace and name, as the API server keys them.
    private static string Key(string ns, string name) => $"{ns}/{name}";

    private static string Key(JsonNode obj) => Key(Ns(obj), Name(obj));

    // Under the lock.
    private IEnumerable<JsonObject> InNamespace(string plural, string ns) => _store[plural].Values.Where(o => Ns(o) == ns);

    private static string Uid(JsonNode obj) => obj["metadata"]!["uid"]!.GetValue<string>();

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Suffix() =>
        string.Create(5, Random.Shared, (span, r) =>
        {
            const string chars = "bcdfghjklmnpqrstvwxz2456789";
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = chars[r.Next(chars.Length)];
            }
        });

    private static ApiPath? ParsePath(string path)
    {
        var s = path.Trim('/').Split('/');
        // api/v1/namespaces/NS/PLURAL[/NAME[/SUB]] or apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME[/SUB]]
        int at = s.Length > 0 && s[0] == "api" ? 2 : s.Length > 0 && s[0] == "apis" ? 3 : -1;
        if (at < 0 || s.Length < at + 3 || s[at] != "namespaces" || s.Length > at + 5)
        {
            return null;
        }

        return new ApiPath(at == 2 ? "" : s[1], at == 2 ? s[1] : s[2], s[at + 1], s[at + 2],
            s.Length > at + 3 ? s[at + 3] : null, s.Length > at + 4 ? s[at + 4] : null);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    private sealed record ApiKind(string Group, string Version, string Plural, string Kind)
    {
        public string ApiVersion => Group == "" ? Version : $"{Group}/{Version}";

        /// <summary>As the API names it in messages: jobs.batch, pods.</summary>
        public string Resource => Group == "" ? Plural : $"{Plural}.{Group}";
    }

    private sealed record ApiPath(string Group, string Version, string Namespace, string Plural, string? Name, string? Sub);

    private sealed record Entry(long Rv, string? Plural, string? Type, JsonObject? Object, string? Raw);

    /// <summary>Equality-based label selectors: k=v, k==v, k!=v, k, !k.</summary>
    private sealed class Selector(List<Func<JsonObject?, bool>> tests)
    {
        public static Selector Parse(string? text)
        {
            var tests = new List<Func<JsonObject?, bool>>();
            foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (term.Contains("!=", StringComparison.Ordinal))
                {
                    var (k, v) = Split(term, "!=");
                    tests.Add(l => l?[k]?.GetValue<string>() != v);
                }
                else if (term.Contains('=', StringComparison.Ordinal))
                {
                    var (k, v) = Split(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                    tests.Add(l => l?[k]?.GetValue<string>() == v);
                }
                else if (term.StartsWith('!'))
                {
                    tests.Add(l => l?[term[1..]] is null);
                }
                else
                {
                    tests.Add(l => l?[term] is not null);
                }
            }

            return new Selector(tests);
        }

        public static Selector FromLabelSelector(JsonObject selector) =>
            new((selector["matchLabels"]?.AsObject() ?? []).Select(kv => (Func<JsonObject?, bool>)(l => l?[kv.Key]?.GetValue<string>() == kv.Value!.GetValue<string>())).ToList());

        public bool Matches(JsonNode obj) => tests.All(t => t(obj["metadata"]?["labels"] as JsonObject));

        private static (string, string) Split(string term, string op)
        {
            int at = term.IndexOf(op, StringComparison.Ordinal);
            return (term[..at].Trim(), term[(at + op.Length)..].Trim());
        }
    }
}
