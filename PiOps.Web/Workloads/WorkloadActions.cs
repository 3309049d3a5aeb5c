using k8s.Models;

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

    /// <summary>
    /// The pod settings a create sends: <see cref="Pod"/>, unless the backend must first read what <see cref="Pod"/>
    /// could not (the Kubernetes runtime's workers Deployment before its cache has listed it).
    /// </summary>
    Task<PodSettings> PodToCreateAsync() => Task.FromResult(Pod);

    /// <summary>The most replicas scaling or the autoscaler may set, and the setting that says so.</summary>
    (int Max, string Setting) ReplicaCap { get; }

    /// <summary>Sets the workers Deployment's desired replicas.</summary>
    Task ScaleAsync(int replicas, Actor? by);

    /// <summary>Creates the Job, as the API server would take it (a runtime without one checks what it can run itself).</summary>
    Task CreateJobAsync(V1Job job, Actor? by);

    Task DeleteJobAsync(string name, Actor? by);

    /// <summary>The Job as it is stored, to be created again; null when there is none of that name (or it is being deleted).</summary>
    Task<V1Job?> GetJobAsync(string name, Actor? by);

    /// <summary>Why creating the Job would be refused, checked without creating it (a dry run); null when it would pass.</summary>
    Task<string?> CheckCreateJobAsync(V1Job job, Actor? by);

    /// <summary>How long a deleted Job may take to go from the snapshot before a re-run gives up.</summary>
    TimeSpan JobDeletionTimeout { get; }

    Task CreateCronJobAsync(CronJobSpec spec, Actor? by);

    Task UpdateCronJobAsync(CronJobSpec spec, Actor? by);

    Task SuspendCronJobAsync(string name, bool suspend, Actor? by);

    Task DeleteCronJobAsync(string name, Actor? by);

    /// <summary>Creates a Job named <paramref name="jobName"/> from the CronJob's template now, owned by the CronJob.</summary>
    Task RunCronJobAsync(string name, string jobName, Actor? by);

    Task SetAutoscalerAsync(AutoscalerSpec spec, Actor? by);
}

/// <summary>
/// Every workload action as the pages get it, written once over either backend: the validation and its sentences, the
/// refusals (replica ranges, a manual scale under an autoscaler), and previews rendered from the backend's real pod
/// settings. Between <see cref="Security.GuardedWorkloadRuntime"/> (who may act, the audit) and the backend.
/// </summary>
public sealed class WorkloadActions(IWorkloadBackend backend, TimeProvider time, ILogger<WorkloadActions> log) : IWorkloadRuntime
{
    public IWorkloadBackend Backend => backend;

    public string Description => backend.Description;

    public bool IsLocal => backend.IsLocal;

    public WorkloadSnapshot Current => backend.Current;

    public PodSettings Pod => backend.Pod;

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => backend.Subscribe(onChanged);

    /// <summary>The Job a spec becomes on this backend: what <see cref="CreateJobAsync"/> sends and the preview shows.</summary>
    public V1Job JobFor(JobSpec spec) => Manifests.Job(spec, backend.Pod);

    public string JobManifest(JobSpec spec) => JobYaml.Render(JobFor(spec));

    /// <summary>The CronJob a spec becomes on this backend (what a cluster is sent), as its preview shows it.</summary>
    public string CronJobManifest(CronJobSpec spec) => CronJobYaml.Render(Manifests.CronJob(spec, backend.Pod));

    public Task ScaleAsync(int replicas, Actor? by = null)
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

        return backend.ScaleAsync(replicas, by);
    }

    public async Task CreateJobAsync(JobSpec spec, Actor? by = null)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was created.");
        await backend.CreateJobAsync(Manifests.Job(spec, await backend.PodToCreateAsync()), by);
    }

    /// <summary>Creates a Job from pasted YAML: a batch/v1 Job, every field known to the API's model.</summary>
    public async Task<string> CreateJobFromYamlAsync(string yaml, Actor? by = null)
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
        await backend.CreateJobAsync(job, by);
        return job.Metadata.Name;
    }

    public Task DeleteJobAsync(string name, Actor? by = null) => backend.DeleteJobAsync(name, by);

    /// <summary>
    /// The book's re-run, done safely: delete the Job and create it again under its name. Nothing is deleted until the
    /// backend has checked that it would create the Job again (on a cluster a server-side dry run: RBAC, validation,
    /// admission webhooks, quota). As kubectl delete then create, the name is free once the old Job is gone: when the
    /// snapshot no longer holds it (no polling). A create that still fails after the delete puts the original back, and
    /// the sentence says which of these happened.
    /// </summary>
    public async Task RerunJobAsync(string name, Actor? by = null)
    {
        var job = await backend.GetJobAsync(name, by)
            ?? throw new OperatorActionException($"There is no Job named {name}: it may have been deleted already.");
        var again = Manifests.Recreate(job);
        if (await backend.CheckCreateJobAsync(again, by) is { } refused)
        {
            throw new OperatorActionException($"The Job {name} was not re-run: {refused} Nothing was deleted: {name} is as it was.");
        }

        await DeleteAndWaitAsync(name, by);
        try
        {
            await backend.CreateJobAsync(again, by);
        }
        catch (OperatorActionException ex)
        {
            await RestoreAsync(job, Cause(ex.Message), by);
        }
    }

    /// <summary>
    /// Deletes the Job and waits, bounded by the backend's time, until both the snapshot and the backend itself no
    /// longer hold it. The snapshot alone is not enough: it can trail the API (a Job created a moment ago is not in it
    /// yet), and a Job held by a finalizer changes nothing in it for as long as it is held. The backend alone is not
    /// enough either: the local runtime keeps a deleted Job's name until its pods have stopped, as its snapshot shows.
    /// </summary>
    private async Task DeleteAndWaitAsync(string name, Actor? by)
    {
        var poke = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = backend.Subscribe(_ =>
        {
            Interlocked.Exchange(ref poke, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Task.CompletedTask;
        });
        await backend.DeleteJobAsync(name, by);
        var deadline = time.GetUtcNow() + backend.JobDeletionTimeout;
        while (true)
        {
            var woken = Volatile.Read(ref poke).Task;
            if (backend.Current.Jobs.All(j => j.Name != name) && await backend.GetJobAsync(name, by) is null)
            {
                return;
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            // A new snapshot, or a look at the backend every second: a held Job changes nothing in the snapshot.
            await Task.WhenAny(woken, Task.Delay(left < PollEvery ? left : PollEvery, time));
        }

        // Say which finalizers hold it, since only their controllers can let it go.
        var still = await backend.GetJobAsync(name, by);
        string waited = $"{backend.JobDeletionTimeout.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)} s";
        throw new OperatorActionException(still?.Metadata.Finalizers is { Count: > 0 } finalizers
            ? $"The old Job {name} is still being deleted after {waited}: its finalizers {string.Join(", ", finalizers)} have not been removed by the controllers that own them. It was not created again; re-run it once the Job is gone (kubectl get job {name} -o jsonpath='{{.metadata.finalizers}}')."
            : $"The old Job {name} did not go away within {waited}; it was not created again.");
    }

    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    // The create failed after the delete: put the Job back from the object as it was (without what the server set), so
    // the operator is not left with fewer Jobs than before without being told.
    private async Task RestoreAsync(V1Job job, string why, Actor? by)
    {
        string name = job.Metadata.Name;
        var original = Manifests.Recreate(job);
        try
        {
            await backend.CreateJobAsync(original, by);
        }
        catch (OperatorActionException ex)
        {
            log.LogError("Re-run of Job {Name} ({Backend}): deleted, not created again, not restored. Its manifest:\n{Manifest}", name, backend.Description, JobYaml.Render(original));
            throw new OperatorActionException($"The Job {name} was deleted, but creating it again failed: {why} Putting it back failed too: {Cause(ex.Message)} The Job is gone; its manifest is in the dashboard's log.");
        }

        throw new OperatorActionException($"The Job {name} was deleted, but creating it again failed: {why} It was put back from its manifest as it was (a new Job of the same name: its earlier pods and status are gone).");
    }

    // A sentence without its "nothing was changed" ending, which is not true once the delete has happened.
    private static string Cause(string sentence) =>
        sentence.Replace(" Nothing was created or changed.", "", StringComparison.Ordinal).Replace(" Nothing was changed.", "", StringComparison.Ordinal);

    public Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was changed.");
        return backend.CreateCronJobAsync(spec, by);
    }

    public Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null, Actor? by = null)
    {
        ThrowIfInvalid(spec.Validate(), "Nothing was changed.");
        return SaveEditAsync("CronJob " + spec.Name, spec.ResourceVersion,
            openedOn is null ? null : s => s.CronJobs.FirstOrDefault(c => c.Name == spec.Name) is { } c ? (c.ResourceVersion, SameCronJob(c.Spec, openedOn)) : null,
            version => backend.UpdateCronJobAsync(spec with { ResourceVersion = version }, by));
    }

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null) => backend.SuspendCronJobAsync(name, suspend, by);

    public Task DeleteCronJobAsync(string name, Actor? by = null) => backend.DeleteCronJobAsync(name, by);

    public async Task<string> RunCronJobNowAsync(string name, Actor? by = null)
    {
        string jobName = WorkloadNames.ManualRun(name);
        await backend.RunCronJobAsync(name, jobName, by);
        return jobName;
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null, Actor? by = null)
    {
        // KEDA scales to zero when the queue is empty; an HPA needs at least one replica.
        int lowestMin = backend.Current.Autoscaler?.ScaledObject is null ? 1 : 0;
        ThrowIfInvalid(spec.Validate(backend.ReplicaCap.Max, lowestMin), "Nothing was changed.");
        return SaveEditAsync("the autoscaler", spec.ResourceVersion,
            openedOn is null ? null : s => s.Autoscaler is { } a ? (a.ResourceVersion, a.Spec with { ResourceVersion = null } == openedOn with { ResourceVersion = null }) : null,
            version => backend.SetAutoscalerAsync(spec with { ResourceVersion = version }, by));
    }

    /// <summary>How long a save refused as stale waits for the snapshot to show the newer version (the watch is a moment behind the API).</summary>
    private static readonly TimeSpan NewerVersionWait = TimeSpan.FromSeconds(3);

    // Compared as the manifests they make: the spec's records hold dictionaries, which records compare by reference.
    private bool SameCronJob(CronJobSpec now, CronJobSpec openedOn) =>
        CronJobManifest(now with { ResourceVersion = null }) == CronJobManifest(openedOn with { ResourceVersion = null });

    /// <summary>
    /// Saves an edit made from version <paramref name="seen"/>. Refused as stale, it looks at the newer version: when
    /// its spec is still the one the form was opened on, only the status moved (nobody's change), and the edit is saved
    /// onto that version, up to three times; a changed spec is someone else's edit, and the refusal stands.
    /// </summary>
    /// <param name="current">
    /// From a snapshot: the object's version and whether its spec is the one the form was opened on (null when it is
    /// gone). Null itself when the caller does not know the spec it started from: a stale refusal then stands at once.
    /// </param>
    private async Task SaveEditAsync(string what, string? seen, Func<WorkloadSnapshot, (string? Version, bool SameSpec)?>? current,
        Func<string?, Task> save)
    {
        string? version = seen;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await save(version);
                return;
            }
            catch (OperatorActionException ex) when (ex.Stale && current is not null && attempt < 3)
            {
                var now = current(await SnapshotPastAsync(s => current(s)?.Version, version));
                if (now is not { SameSpec: true } || now.Value.Version == version)
                {
                    throw;
                }

                log.LogInformation("{What}: the edit from version {Seen} was refused as stale, but version {Now} differs only in its status; saving onto it.",
                    what, version, now.Value.Version);
                version = now.Value.Version;
            }
        }
    }

    /// <summary>The snapshot once its version of an object is no longer <paramref name="seen"/>, or after a short wait.</summary>
    private async Task<WorkloadSnapshot> SnapshotPastAsync(Func<WorkloadSnapshot, string?> version, string? seen)
    {
        if (version(backend.Current) != seen)
        {
            return backend.Current;
        }

        var moved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (backend.Subscribe(s =>
               {
                   if (version(s) != seen)
                   {
                       moved.TrySetResult();
                   }

                   return Task.CompletedTask;
               }))
        {
            if (version(backend.Current) == seen)
            {
                await Task.WhenAny(moved.Task, Task.Delay(NewerVersionWait));
            }
        }

        return backend.Current;
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
