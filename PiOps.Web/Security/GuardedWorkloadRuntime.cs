using System.Text.Json;
using PiOps.Web.Workloads;

namespace PiOps.Web.Security;

/// <summary>
/// The workload runtime as pages and the API get it: the backend of the namespace selected in this circuit or request
/// (<see cref="WorkloadSelection"/>). Reads and subscriptions pass through (a subscription follows a switch of
/// namespace); every change passes the <see cref="OperatorGuard"/> (who may, the acting user, the audit), with its
/// namespace when there is a choice.
/// </summary>
public sealed class GuardedWorkloadRuntime(WorkloadSelection selection, OperatorGuard guard) : IWorkloadRuntime
{
    private IWorkloadRuntime Inner => selection.Backend;

    public string Description => Inner.Description;

    public bool IsLocal => Inner.IsLocal;

    public WorkloadSnapshot Current => Inner.Current;

    public PodSettings Pod => Inner.Pod;

    public string JobManifest(JobSpec spec) => Inner.JobManifest(spec);

    public string CronJobManifest(CronJobSpec spec) => Inner.CronJobManifest(spec);

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) =>
        selection.Follow(backend => backend.Subscribe(onChanged), backend => onChanged(backend.Current));


    // The "by" a caller gives is not used: the guard acts as its signed-in user, whoever calls.

    public Task ScaleAsync(int replicas, Actor? by = null) =>
        ActAsync("scale", "deployment", $"replicas={replicas}", user => Inner.ScaleAsync(replicas, user));

    public Task CreateJobAsync(JobSpec spec, Actor? by = null) =>
        ActAsync("create job", spec.Name, Describe(spec), user => Inner.CreateJobAsync(spec, user));

    public async Task<string> CreateJobFromYamlAsync(string yaml, Actor? by = null)
    {
        string name = "";
        await ActAsync("create job from yaml", "", $"{yaml.Length} characters", async user => name = await Inner.CreateJobFromYamlAsync(yaml, user));
        return name;
    }

    public Task DeleteJobAsync(string name, Actor? by = null) => ActAsync("delete job", name, "", user => Inner.DeleteJobAsync(name, user));

    public Task RerunJobAsync(string name, Actor? by = null) => ActAsync("re-run job", name, "", user => Inner.RerunJobAsync(name, user));

    public Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null) =>
        ActAsync("create cronjob", spec.Name, Describe(spec), user => Inner.CreateCronJobAsync(spec, user));

    public Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null, Actor? by = null) =>
        ActAsync("edit cronjob", spec.Name, Describe(spec), user => Inner.UpdateCronJobAsync(spec, openedOn, user));

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null) =>
        ActAsync(suspend ? "suspend cronjob" : "resume cronjob", name, "", user => Inner.SuspendCronJobAsync(name, suspend, user));

    public Task DeleteCronJobAsync(string name, Actor? by = null) => ActAsync("delete cronjob", name, "", user => Inner.DeleteCronJobAsync(name, user));

    public async Task<string> RunCronJobNowAsync(string name, Actor? by = null)
    {
        string job = "";
        await ActAsync("run cronjob now", name, "", async user => job = await Inner.RunCronJobNowAsync(name, user));
        return job;
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null, Actor? by = null) =>
        ActAsync("set autoscaler", "deployment", Describe(spec), user => Inner.SetAutoscalerAsync(spec, openedOn, user));

    private Task ActAsync(string action, string target, string parameters, Func<Actor, Task> act)
    {
        if (selection.Names.Count > 1)
        {
            parameters = (parameters.Length == 0 ? "" : parameters + " ") + $"namespace={selection.Name}";
        }

        return guard.ActAsync(action, target, parameters, act);
    }

    private static string Describe<T>(T value) => JsonSerializer.Serialize(value, Utils.StoredJson.Options);
}
