using System.Globalization;
using k8s;
using k8s.Models;

namespace PiOps.Web.Workloads;

/// <summary>
/// The workload model as Kubernetes objects and back, for both runtimes (the local one runs the same objects): JobSpec ⇄ batch/v1 Job, CronJobSpec ⇄ batch/v1 CronJob,
/// AutoscalerSpec ⇄ autoscaling/v2 HPA. The Jobs page's YAML preview is <see cref="Job"/> serialized, so what is shown
/// is what is created, and so is the CronJobs page's (<see cref="CronJob"/>).
/// </summary>
public static class Manifests
{
    public const string ContainerName = "pi-container";

    /// <summary>
    /// Environment the runtime sets (the workers' connection and the dashboard's queue); not part of a JobSpec's own Env,
    /// so a clone gets the connection of today's workers, as a new Job does.
    /// </summary>
    private static bool IsRuntimeEnv(string name) => name == "QUEUE_NAME" || WorkerConnection.IsCopied(name);

    /// <summary>Labels and fields the API server sets on a Job; it rejects them on create (the selector unless manualSelector).</summary>
    private static readonly string[] ServerLabels = ["controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"];

    public static V1Job Job(JobSpec spec, PodSettings pod) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "Job",
        Metadata = new V1ObjectMeta { Name = spec.Name, Labels = Labels(pod) },
        Spec = JobBody(spec, pod),
    };

    private static V1JobSpec JobBody(JobSpec spec, PodSettings pod)
    {
        var redis = pod.Redis;
        return new V1JobSpec
        {
            BackoffLimit = spec.BackoffLimit,
            Parallelism = spec.Parallelism,
            Completions = spec.Completions,
            CompletionMode = spec.Indexed ? "Indexed" : null,
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = Labels(pod) },
                Spec = new V1PodSpec
                {
                    RestartPolicy = spec.RestartPolicy.ToString(),
                    Containers =
                    [
                        new V1Container
                        {
                            Name = ContainerName,
                            Image = pod.Image,
                            Args = spec.Command == JobCommand.AddTasks ? ["add-tasks", "--count", spec.AddTasksCount.ToString(CultureInfo.InvariantCulture)] : null,
                            Env = Env(redis, pod.QueueName, spec.Env),
                            VolumeMounts = redis.Mounts.Count > 0 ? [.. redis.Mounts] : null,
                        },
                    ],
                    Volumes = redis.Volumes.Count > 0 ? [.. redis.Volumes] : null,
                },
            },
        };
    }

    // The connection, the queue, then the spec's own entries; one of those with a name already set replaces it in place,
    // as a name given twice would leave the pod with whichever the kubelet takes last.
    private static List<V1EnvVar> Env(WorkerConnection redis, string queueName, IReadOnlyDictionary<string, string> own)
    {
        var env = new List<V1EnvVar>(redis.Env) { new() { Name = "QUEUE_NAME", Value = queueName } };
        foreach (var (name, value) in own)
        {
            int at = env.FindIndex(e => e.Name == name);
            if (at >= 0)
            {
                env[at] = new V1EnvVar { Name = name, Value = value };
            }
            else
            {
                env.Add(new V1EnvVar { Name = name, Value = value });
            }
        }

        return env;
    }

    private static Dictionary<string, string> Labels(PodSettings pod) => new() { [pod.LabelKey] = pod.LabelValue };

    /// <summary>The JobSpec a Job stands for (a Job made elsewhere is read as closely as the model allows).</summary>
    public static JobSpec ToJobSpec(string name, V1JobSpec? spec)
    {
        var container = spec?.Template?.Spec?.Containers?.FirstOrDefault(c => c.Name == ContainerName) ?? spec?.Template?.Spec?.Containers?.FirstOrDefault();
        var args = container?.Args ?? [];
        int addTasks = args.IndexOf("add-tasks");
        int count = 10;
        int countAt = args.IndexOf("--count");
        if (countAt >= 0 && countAt + 1 < args.Count)
        {
            int.TryParse(args[countAt + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out count);
        }

        var env = (container?.Env ?? []).Where(e => e.Value is not null && !IsRuntimeEnv(e.Name))
            .GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Last().Value);
        return new JobSpec(
            name,
            addTasks >= 0 ? JobCommand.AddTasks : JobCommand.Worker,
            spec?.Parallelism ?? 1,
            spec?.Completions,
            spec?.CompletionMode == "Indexed",
            spec?.BackoffLimit ?? 6,
            spec?.Template?.Spec?.RestartPolicy == "Never" ? JobRestartPolicy.Never : JobRestartPolicy.OnFailure,
            env,
            count);
    }

    /// <summary>
    /// The Job to create again for a re-run or a clone: the object as it was given, without what the server set
    /// (uid, resourceVersion, timestamps, managedFields, status, the generated selector and its labels).
    /// </summary>
    public static V1Job Recreate(V1Job job, string? name = null)
    {
        var copy = KubernetesJson.Deserialize<V1Job>(KubernetesJson.Serialize(job));
        copy.ApiVersion = "batch/v1";
        copy.Kind = "Job";
        copy.Status = null;
        copy.Metadata = new V1ObjectMeta
        {
            Name = name ?? job.Metadata.Name,
            Labels = WithoutServerLabels(job.Metadata.Labels),
            Annotations = job.Metadata.Annotations?.Where(a => !a.Key.StartsWith("batch.kubernetes.io/", StringComparison.Ordinal))
                .ToDictionary(a => a.Key, a => a.Value),
            OwnerReferences = job.Metadata.OwnerReferences,
        };
        if (copy.Spec.ManualSelector != true)
        {
            copy.Spec.Selector = null;
            copy.Spec.ManualSelector = null;
        }

        if (copy.Spec.Template.Metadata is { } template)
        {
            template.Labels = WithoutServerLabels(template.Labels);
        }

        return copy;
    }

    private static Dictionary<string, string>? WithoutServerLabels(IDictionary<string, string>? labels) =>
        labels?.Where(l => !ServerLabels.Contains(l.Key)).ToDictionary(l => l.Key, l => l.Value);

    public static V1CronJob CronJob(CronJobSpec spec, PodSettings pod) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "CronJob",
        Metadata = new V1ObjectMeta { Name = spec.Name, Labels = Labels(pod) },
        Spec = new V1CronJobSpec
        {
            Schedule = spec.Schedule,
            TimeZone = string.IsNullOrWhiteSpace(spec.TimeZone) ? null : spec.TimeZone,
            Suspend = spec.Suspend,
            ConcurrencyPolicy = spec.ConcurrencyPolicy.ToString(),
            SuccessfulJobsHistoryLimit = spec.SuccessfulJobsHistoryLimit,
            FailedJobsHistoryLimit = spec.FailedJobsHistoryLimit,
            StartingDeadlineSeconds = spec.StartingDeadlineSeconds,
            JobTemplate = new V1JobTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = Labels(pod) },
                Spec = JobBody(spec.JobTemplate, pod),
            },
        },
    };

    /// <summary>The merge patch of everything UpdateCronJobAsync changes: all but the name and the Job template.</summary>
    public static string CronJobPatch(CronJobSpec spec)
    {
        var patch = new System.Text.Json.Nodes.JsonObject
        {
            ["spec"] = new System.Text.Json.Nodes.JsonObject
            {
                ["schedule"] = spec.Schedule,
                ["timeZone"] = string.IsNullOrWhiteSpace(spec.TimeZone) ? null : spec.TimeZone, // null removes it
                ["suspend"] = spec.Suspend,
                ["concurrencyPolicy"] = spec.ConcurrencyPolicy.ToString(),
                ["successfulJobsHistoryLimit"] = spec.SuccessfulJobsHistoryLimit,
                ["failedJobsHistoryLimit"] = spec.FailedJobsHistoryLimit,
                ["startingDeadlineSeconds"] = spec.StartingDeadlineSeconds,
            },
        };
        if (spec.ResourceVersion is { Length: > 0 } rv)
        {
            // The API server then refuses the patch (409 Conflict) when the CronJob changed since the form was opened
            // (the patched object keeps this resourceVersion, a precondition of the update); without it a merge patch
            // applies blindly over another operator's change.
            patch["metadata"] = new System.Text.Json.Nodes.JsonObject { ["resourceVersion"] = rv };
        }

        return patch.ToJsonString();
    }

    public static CronJobSpec ToCronJobSpec(V1CronJob cron) => new(
        cron.Metadata.Name,
        cron.Spec?.Schedule ?? "",
        cron.Spec?.TimeZone,
        cron.Spec?.Suspend ?? false,
        Enum.TryParse<ConcurrencyPolicy>(cron.Spec?.ConcurrencyPolicy, out var policy) ? policy : ConcurrencyPolicy.Allow,
        cron.Spec?.SuccessfulJobsHistoryLimit ?? 3,
        cron.Spec?.FailedJobsHistoryLimit ?? 1,
        cron.Spec?.StartingDeadlineSeconds,
        ToJobSpec(cron.Metadata.Name, cron.Spec?.JobTemplate?.Spec));

    /// <summary>
    /// The Job `kubectl create job NAME --from=cronjob/CRON` makes: the template's labels, annotations and spec, the
    /// annotation cronjob.kubernetes.io/instantiate: manual, and the CronJob as its controlling owner.
    /// </summary>
    public static V1Job JobFromCronJob(V1CronJob cron, string jobName)
    {
        var template = KubernetesJson.Deserialize<V1JobTemplateSpec>(KubernetesJson.Serialize(cron.Spec.JobTemplate));
        // As kubectl's createJobFromCronJob: the annotation first, then the template's (which win on a clash).
        var annotations = new Dictionary<string, string> { ["cronjob.kubernetes.io/instantiate"] = "manual" };
        foreach (var (key, value) in template.Metadata?.Annotations ?? new Dictionary<string, string>())
        {
            annotations[key] = value;
        }

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = jobName,
                Labels = template.Metadata?.Labels,
                Annotations = annotations,
                OwnerReferences =
                [
                    // No blockOwnerDeletion, as kubectl leaves it out: where OwnerReferencesPermissionEnforcement is on
                    // (OpenShift by default), setting it needs update on cronjobs/finalizers, which the Role lacks.
                    new V1OwnerReference { ApiVersion = "batch/v1", Kind = "CronJob", Name = cron.Metadata.Name, Uid = cron.Metadata.Uid, Controller = true },
                ],
            },
            Spec = template.Spec,
        };
    }

    public static V2HorizontalPodAutoscaler Autoscaler(AutoscalerSpec spec, string deployment, string queueMetric, PodSettings pod) => new()
    {
        ApiVersion = "autoscaling/v2",
        Kind = "HorizontalPodAutoscaler",
        Metadata = new V1ObjectMeta { Name = deployment, Labels = Labels(pod) },
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { Kind = "Deployment", Name = deployment, ApiVersion = "apps/v1" },
            MinReplicas = spec.MinReplicas,
            MaxReplicas = spec.MaxReplicas,
            Metrics = Metrics(spec, queueMetric),
            Behavior = new V2HorizontalPodAutoscalerBehavior
            {
                ScaleDown = new V2HPAScalingRules { StabilizationWindowSeconds = spec.ScaleDownStabilizationSeconds },
            },
        },
    };

    /// <summary>
    /// A merge patch that also sets metadata.resourceVersion: the API server then applies it only to that version of the
    /// object, and answers 409 Conflict when it has changed since (see CronJobPatch).
    /// </summary>
    public static string OnVersion(string mergePatch, string? resourceVersion)
    {
        if (resourceVersion is not { Length: > 0 })
        {
            return mergePatch;
        }

        var patch = System.Text.Json.Nodes.JsonNode.Parse(mergePatch)!.AsObject();
        if (patch["metadata"] is not System.Text.Json.Nodes.JsonObject metadata)
        {
            patch["metadata"] = metadata = new System.Text.Json.Nodes.JsonObject();
        }

        metadata["resourceVersion"] = resourceVersion;
        return patch.ToJsonString();
    }

    /// <summary>The merge patch that makes an existing HPA follow a spec (merge patch replaces the metrics list whole).</summary>
    public static string AutoscalerPatch(AutoscalerSpec spec, string queueMetric) => new System.Text.Json.Nodes.JsonObject
    {
        ["spec"] = new System.Text.Json.Nodes.JsonObject
        {
            ["minReplicas"] = spec.MinReplicas,
            ["maxReplicas"] = spec.MaxReplicas,
            ["metrics"] = System.Text.Json.Nodes.JsonNode.Parse(KubernetesJson.Serialize(Metrics(spec, queueMetric))),
            ["behavior"] = new System.Text.Json.Nodes.JsonObject
            {
                ["scaleDown"] = new System.Text.Json.Nodes.JsonObject { ["stabilizationWindowSeconds"] = spec.ScaleDownStabilizationSeconds },
            },
        },
    }.ToJsonString();

    private static List<V2MetricSpec> Metrics(AutoscalerSpec spec, string queueMetric)
    {
        var metrics = new List<V2MetricSpec>();
        if (spec.TargetCpuPercent is { } cpu)
        {
            metrics.Add(new V2MetricSpec { Type = "Resource", Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = cpu } } });
        }

        if (spec.TargetQueueLengthPerReplica is { } perReplica)
        {
            metrics.Add(new V2MetricSpec
            {
                Type = "External",
                External = new V2ExternalMetricSource
                {
                    Metric = new V2MetricIdentifier { Name = queueMetric },
                    Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity(perReplica.ToString(CultureInfo.InvariantCulture)) },
                },
            });
        }

        return metrics;
    }

    public static AutoscalerSpec ToAutoscalerSpec(V2HorizontalPodAutoscaler hpa)
    {
        var metrics = hpa.Spec?.Metrics ?? [];
        int? cpu = metrics.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == "cpu")?.Resource?.Target?.AverageUtilization;
        var queue = metrics.Select(m => m.External?.Target ?? m.ObjectProperty?.Target).FirstOrDefault(t => t is not null);
        return new AutoscalerSpec(
            true,
            hpa.Spec?.MinReplicas ?? 1,
            hpa.Spec?.MaxReplicas ?? 1,
            cpu,
            Whole(queue?.AverageValue ?? queue?.Value),
            hpa.Spec?.Behavior?.ScaleDown?.StabilizationWindowSeconds ?? 300);
    }

    /// <summary>The queue length the HPA last saw, from its current metrics.</summary>
    public static long? CurrentQueueLength(V2HorizontalPodAutoscaler hpa) =>
        hpa.Status?.CurrentMetrics?.Select(m => m.External?.Current ?? m.ObjectProperty?.Current)
            .Where(c => c is not null).Select(c => (long?)Whole(c!.Value ?? c.AverageValue)).FirstOrDefault(v => v is not null);

    public static double? CurrentCpuPercent(V2HorizontalPodAutoscaler hpa) =>
        hpa.Status?.CurrentMetrics?.FirstOrDefault(m => m.Resource?.Name == "cpu")?.Resource?.Current?.AverageUtilization;

    private static int? Whole(ResourceQuantity? q) => q is null ? null : (int)Math.Round(q.ToDecimal());
}
