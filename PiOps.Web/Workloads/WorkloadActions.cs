using k8s.Models;
using PiOps.Web.Kubernetes;

namespace PiOps.Web.Workloads;

/// <summary>
/// The primitive calls a runtime offers (the Kubernetes API, or the local runtime's own controllers): get, create,
/// delete, patch, scale and the snapshot. They check nothing an operator should hear about twice; the sentences, the
/// refusals and the orchestration of several calls are <see cref="WorkloadActions"/>'.
/// </summary>
public interface IWorkloadBackend
{
    /// <summary>What the UI shows as the place workloads run, e.g. "local runtime (processes on this machine)".</summary>
    string Description { get; }

    bool IsLocal { get; }

    /// <summary>The namespace objects are created in; null where there is none (the local runtime).</summary>
    string? Namespace { get; }

    WorkloadSnapshot Current { get; }

    /// <summary>Called after every change of <see cref="Current"/>. Dispose to stop. Handlers must return quickly.</summary>
    IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged);

    /// <summary>What the pods of the Jobs this backend creates really get (image, Redis, queue, PiOps' label): previews render from it.</summary>
    PodSettings Pod { get; }

    /// <summary>The most replicas scaling or the autoscaler may set, and the setting that says so.</summary>
    (int Max, string Setting) ReplicaCap { get; }

    /// <summary>Sets the workers Deployment's desired replicas.</summary>
    Task ScaleAsync(int replicas);

    /// <summary>Creates the Job, as the API server would take it (a runtime without one checks what it can run itself).</summary>
    Task CreateJobAsync(V1Job job);

    Task DeleteJobAsync(string name);

    Task RerunJobAsync(string name);

    Task CreateCronJobAsync(CronJobSpec spec);

    Task UpdateCronJobAsync(CronJobSpec spec);

    Task SuspendCronJobAsync(string name, bool suspend);

    Task DeleteCronJobAsync(string name);

    /// <summary>Creates a Job named <paramref name="jobName"/> from the CronJob's template now, owned by the CronJob.</summary>
    Task RunCronJobAsync(string name, string jobName);

    Task SetAutoscalerAsync(AutoscalerSpec spec);
}

/// <summary>
/// Every workload action as the pages get it, written once over either backend: the validation and its sentences, the
/// refusals (replica ranges, a manual scale under an autoscaler), and previews rendered from the backend's real pod
/// settings. Between <see cref="Security.GuardedWorkloadRuntime"/> (who may act, the audit) and the backend.
/// </summary>
public sealed class WorkloadActions(IWorkloadBackend backend) : IWorkloadRuntime
{
    public IWorkloadBackend Backend => backend;

    public string Description => backend.Description;

    public bool IsLocal => backend.IsLocal;

    public WorkloadSnapshot Current => backend.Current;

    public (string Host, string Port) PodRedis => (backend.Pod.RedisHost, backend.Pod.RedisPort);

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => backend.Subscribe(onChanged);

    /// <summary>The Job a spec becomes on this backend: what <see cref="CreateJobAsync"/> sends and the preview shows.</summary>
    public V1Job JobFor(JobSpec spec) => Manifests.Job(spec, backend.Pod);

    public string JobManifest(JobSpec spec, string queueName) => JobYaml.Render(JobFor(spec));

    public Task ScaleAsync(int replicas)
    {
        var (max, setting) = backend.ReplicaCap;
        if (replicas < 0 || replicas > max)
        {
            throw new OperatorActionException($"Replicas must be from 0 to {max} ({setting}); nothing was changed.");
        }

        // Scaling by hand under an autoscaler lasts until its next look: refused, with what to do instead.
        if (backend.Current.Autoscaler is { Spec.Enabled: true } autoscaler)
        {
            var (min, most) = (autoscaler.Spec.MinReplicas, autoscaler.Spec.MaxReplicas);
            throw new OperatorActionException(autoscaler.ScaledObject is { } scaled
                ? $"KEDA's ScaledObject {scaled} sets the replicas ({min} to {most}) and would undo this at its next look: change its minimum and maximum on the Autoscaling page, or turn it off first. Nothing was changed."
                : $"The autoscaler sets the replicas ({min} to {most}) and would undo this at its next look: change its minimum and maximum, or turn it off first. Nothing was changed.");
        }

        return backend.ScaleAsync(replicas);
    }

    public Task CreateJobAsync(JobSpec spec)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was created.");
        return backend.CreateJobAsync(JobFor(spec));
    }

    /// <summary>Creates a Job from pasted YAML: a batch/v1 Job, every field known to the API's model.</summary>
    public async Task<string> CreateJobFromYamlAsync(string yaml)
    {
        var job = JobYaml.Parse(yaml);
        if (backend.Namespace is { } here && job.Metadata?.NamespaceProperty is { Length: > 0 } ns && ns != here)
        {
            throw new OperatorActionException($"The Job is for namespace {ns}, but the dashboard works in {here}. Nothing was created.");
        }

        job.Metadata ??= new V1ObjectMeta();
        job.Metadata.NamespaceProperty = null;
        job.Metadata.Labels ??= new Dictionary<string, string>();
        // Labelled as PiOps' own, or the dashboard would create it and then not show it.
        job.Metadata.Labels[backend.Pod.LabelKey] = backend.Pod.LabelValue;
        await backend.CreateJobAsync(job);
        return job.Metadata.Name;
    }

    public Task DeleteJobAsync(string name) => backend.DeleteJobAsync(name);

    public Task RerunJobAsync(string name) => backend.RerunJobAsync(name);

    public Task CreateCronJobAsync(CronJobSpec spec)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was changed.");
        return backend.CreateCronJobAsync(spec);
    }

    public Task UpdateCronJobAsync(CronJobSpec spec)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was changed.");
        return backend.UpdateCronJobAsync(spec);
    }

    public Task SuspendCronJobAsync(string name, bool suspend) => backend.SuspendCronJobAsync(name, suspend);

    public Task DeleteCronJobAsync(string name) => backend.DeleteCronJobAsync(name);

    public async Task<string> RunCronJobNowAsync(string name)
    {
        string jobName = WorkloadNames.ManualRun(name);
        await backend.RunCronJobAsync(name, jobName);
        return jobName;
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec)
    {
        // KEDA scales to zero when the queue is empty; an HPA needs at least one replica.
        int lowestMin = backend.Current.Autoscaler?.ScaledObject is null ? 1 : 0;
        ThrowIfInvalid(spec.Validate(backend.ReplicaCap.Max, lowestMin), "Nothing was changed.");
        return backend.SetAutoscalerAsync(spec);
    }

    /// <summary>Refuses with every problem at once and what was left as it was; does nothing when there is none.</summary>
    public static void ThrowIfInvalid(IEnumerable<string> validation, string nothing)
    {
        var problems = validation.ToList();
        if (problems.Count > 0)
        {
            throw new OperatorActionException(string.Join(" ", problems) + " " + nothing);
        }
    }
}
