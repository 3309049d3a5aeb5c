using k8s.Models;
using PiOps.Web.Workloads;

namespace PiOps.Web.Kubernetes;

/// <summary>The projection of the namespace's cache onto the snapshot the pages render, published only when what is shown changed.</summary>
public sealed partial class KubernetesRuntime
{
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
            .OrderBy(LastSeen).LastOrDefault() is { } last
            ? $"{last.Reason}: {last.Message}".Trim(' ', ':')
            : null;

    /// <summary>
    /// The events about one object, as `kubectl describe` finds them: by the involved object's kind and name, and by
    /// its uid when both carry one, so a re-run Job (same name, new uid) does not show its predecessor's failure.
    /// </summary>
    private static IReadOnlyList<ObjectEvent> EventsOf(ILookup<(string, string), Corev1Event> about, string kind, V1ObjectMeta meta) =>
        ObjectEvent.Recent(about[(kind, meta.Name)]
            .Where(e => string.IsNullOrEmpty(e.InvolvedObject.Uid) || string.IsNullOrEmpty(meta.Uid) || e.InvolvedObject.Uid == meta.Uid)
            .Select(e => new ObjectEvent(Utc(LastSeen(e)),
                string.IsNullOrEmpty(e.Type) ? ObjectEvent.Normal : e.Type, e.Reason ?? "", e.Message ?? "", e.Series?.Count ?? e.Count ?? 1)));

    /// <summary>
    /// When an event was last seen, as kubectl reads it (kubectl/pkg/cmd/events eventTime): the series' last
    /// observation for an event written through events.k8s.io (the scheduler's FailedScheduling, for one: its
    /// lastTimestamp is empty and its eventTime is the first occurrence), else lastTimestamp, else eventTime.
    /// </summary>
    private static DateTime LastSeen(Corev1Event e) =>
        e.Series?.LastObservedTime is { } observed && observed != default ? observed
        : e.LastTimestamp is { } last && last != default ? last
        : e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp ?? DateTime.MinValue;

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
            Containers = [.. (p.Spec?.Containers ?? []).Select(c => c.Name)],
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
}
