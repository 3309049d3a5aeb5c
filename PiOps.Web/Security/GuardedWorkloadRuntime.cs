using System.Text.Json;
using PiOps.Web.Audit;
using PiOps.Web.Local;
using PiOps.Web.Workloads;

namespace PiOps.Web.Security;

/// <summary>
/// The workload runtime as pages and the API get it: reads and subscriptions pass through; every change is refused
/// unless the user may operate, runs with <see cref="ActingUser"/> set (so the Kubernetes runtime can annotate what
/// it creates and impersonate), and is written to the audit trail with its outcome.
/// </summary>
public sealed class GuardedWorkloadRuntime(IWorkloadRuntime inner, UserContext user, AuditLog audit, TimeProvider time) : IWorkloadRuntime
{
    public string Description => inner.Description;

    public bool IsLocal => inner.IsLocal;

    public WorkloadSnapshot Current => inner.Current;

    public (string Host, string Port) PodRedis => inner.PodRedis;

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => inner.Subscribe(onChanged);

    public IReadOnlyList<LogLine> Logs(string podName) => inner.Logs(podName);

    public Task ScaleAsync(int replicas) => ActAsync("scale", "deployment", $"replicas={replicas}", () => inner.ScaleAsync(replicas));

    public Task CreateJobAsync(JobSpec spec) => ActAsync("create job", spec.Name, Describe(spec), () => inner.CreateJobAsync(spec));

    public async Task<string> CreateJobFromYamlAsync(string yaml)
    {
        string name = "";
        await ActAsync("create job from yaml", "", $"{yaml.Length} characters", async () => name = await inner.CreateJobFromYamlAsync(yaml));
        return name;
    }

    public Task DeleteJobAsync(string name) => ActAsync("delete job", name, "", () => inner.DeleteJobAsync(name));

    public Task RerunJobAsync(string name) => ActAsync("re-run job", name, "", () => inner.RerunJobAsync(name));

    public Task CreateCronJobAsync(CronJobSpec spec) => ActAsync("create cronjob", spec.Name, Describe(spec), () => inner.CreateCronJobAsync(spec));

    public Task UpdateCronJobAsync(CronJobSpec spec) => ActAsync("edit cronjob", spec.Name, Describe(spec), () => inner.UpdateCronJobAsync(spec));

    public Task SuspendCronJobAsync(string name, bool suspend) =>
        ActAsync(suspend ? "suspend cronjob" : "resume cronjob", name, "", () => inner.SuspendCronJobAsync(name, suspend));

    public Task DeleteCronJobAsync(string name) => ActAsync("delete cronjob", name, "", () => inner.DeleteCronJobAsync(name));

    public async Task<string> RunCronJobNowAsync(string name)
    {
        string job = "";
        await ActAsync("run cronjob now", name, "", async () => job = await inner.RunCronJobNowAsync(name));
        return job;
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec) => ActAsync("set autoscaler", "deployment", Describe(spec), () => inner.SetAutoscalerAsync(spec));

    private async Task ActAsync(string action, string target, string parameters, Func<Task> act)
    {
        if (!user.CanOperate)
        {
            await audit.WriteAsync(Entry(action, target, parameters, false, "refused: " + user.Role));
            throw new WorkloadActionException($"You are signed in as {user.Name} ({user.Role}): only an Operator or an Admin may {action}. Nothing was changed.");
        }

        using var acting = ActingUser.Begin(user.Name, user.Role);
        try
        {
            await act();
            await audit.WriteAsync(Entry(action, target, parameters, true, null));
        }
        catch (WorkloadActionException ex)
        {
            await audit.WriteAsync(Entry(action, target, parameters, false, ex.Message));
            throw;
        }
    }

    private AuditEntry Entry(string action, string target, string parameters, bool ok, string? error) =>
        user.Audit(time.GetUtcNow(), action, target, parameters, ok, error);

    private static string Describe<T>(T value) => JsonSerializer.Serialize(value, Utils.StoredJson.Options);
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
