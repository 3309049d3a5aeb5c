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

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => new FollowingSubscription(selection, onChanged);


    public Task ScaleAsync(int replicas) => ActAsync("scale", "deployment", $"replicas={replicas}", () => Inner.ScaleAsync(replicas));

    public Task CreateJobAsync(JobSpec spec) => ActAsync("create job", spec.Name, Describe(spec), () => Inner.CreateJobAsync(spec));

    public async Task<string> CreateJobFromYamlAsync(string yaml)
    {
        string name = "";
        await ActAsync("create job from yaml", "", $"{yaml.Length} characters", async () => name = await Inner.CreateJobFromYamlAsync(yaml));
        return name;
    }

    public Task DeleteJobAsync(string name) => ActAsync("delete job", name, "", () => Inner.DeleteJobAsync(name));

    public Task RerunJobAsync(string name) => ActAsync("re-run job", name, "", () => Inner.RerunJobAsync(name));

    public Task CreateCronJobAsync(CronJobSpec spec) => ActAsync("create cronjob", spec.Name, Describe(spec), () => Inner.CreateCronJobAsync(spec));

    public Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null) =>
        ActAsync("edit cronjob", spec.Name, Describe(spec), () => Inner.UpdateCronJobAsync(spec, openedOn));

    public Task SuspendCronJobAsync(string name, bool suspend) =>
        ActAsync(suspend ? "suspend cronjob" : "resume cronjob", name, "", () => Inner.SuspendCronJobAsync(name, suspend));

    public Task DeleteCronJobAsync(string name) => ActAsync("delete cronjob", name, "", () => Inner.DeleteCronJobAsync(name));

    public async Task<string> RunCronJobNowAsync(string name)
    {
        string job = "";
        await ActAsync("run cronjob now", name, "", async () => job = await Inner.RunCronJobNowAsync(name));
        return job;
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null) =>
        ActAsync("set autoscaler", "deployment", Describe(spec), () => Inner.SetAutoscalerAsync(spec, openedOn));

    private Task ActAsync(string action, string target, string parameters, Func<Task> act)
    {
        if (selection.Names.Count > 1)
        {
            parameters = (parameters.Length == 0 ? "" : parameters + " ") + $"namespace={selection.Name}";
        }

        return guard.ActAsync(action, target, parameters, act);
    }

    private static string Describe<T>(T value) => JsonSerializer.Serialize(value, Utils.StoredJson.Options);

    /// <summary>A subscription to the selected backend that moves to the new one on a switch, and reports its snapshot.</summary>
    private sealed class FollowingSubscription : IDisposable
    {
        private readonly object _gate = new();
        private readonly IDisposable _switches;
        private IDisposable? _current;

        public FollowingSubscription(WorkloadSelection selection, Func<WorkloadSnapshot, Task> onChanged)
        {
            _current = selection.Backend.Subscribe(onChanged);
            _switches = selection.OnChanged(backend =>
            {
                lock (_gate)
                {
                    if (_current is null)
                    {
                        return Task.CompletedTask;
                    }

                    _current.Dispose();
                    _current = backend.Subscribe(onChanged);
                }

                return onChanged(backend.Current);
            });
        }

        public void Dispose()
        {
            _switches.Dispose();
            lock (_gate)
            {
                _current?.Dispose();
                _current = null;
            }
        }
    }
}

/// <summary>The user on whose behalf a workload action runs, for annotations and impersonation; flows with the call.</summary>
public static class ActingUser
{
    private static readonly AsyncLocal<(string Name, string Role)?> Current = new();

    /// <summary>The user name and role, or null outside a guarded action (e.g. the CronJob controller's own runs).</summary>
    public static (string Name, string Role)? Value => Current.Value;

    public static IDisposable Begin(string name, string role)
    {
        var previous = Current.Value;
        Current.Value = (name, role);
        return new Restore(previous);
    }

    private sealed class Restore((string Name, string Role)? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
