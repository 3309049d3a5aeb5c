namespace PiOps.Web.Workloads;

/// <summary>When no runtime is enabled: workers are started by hand, the queue pages still work.</summary>
public sealed class NoWorkloadRuntime(Microsoft.Extensions.Options.IOptions<PiOps.Shared.Queue.QueueOptions> queue) : IWorkloadRuntime
{
    public string Description => "no workload runtime (LocalRuntime:Enabled is off): start workers by hand";

    public bool IsLocal => false;

    public WorkloadSnapshot Current => WorkloadSnapshot.Empty;

    /// <summary>The chart's pods, for previews: the book's image and the chart's Redis Service.</summary>
    public PodSettings Pod => PodSettings.Book("redis", "6379", queue.Value.QueueName);

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => new Nothing();

    public Task ScaleAsync(int replicas, Actor? by = null) =>
        throw new OperatorActionException("No workload runtime is enabled, so there is nothing to scale: set LocalRuntime__Enabled=true, or scale your workers where they run.");

    public Task CreateJobAsync(JobSpec spec, Actor? by = null) => Refuse();

    public Task<string> CreateJobFromYamlAsync(string yaml, Actor? by = null) =>
        throw new OperatorActionException("No workload runtime is enabled: set LocalRuntime__Enabled=true to run Jobs here.");

    public Task DeleteJobAsync(string name, Actor? by = null) => Refuse();

    public Task RerunJobAsync(string name, Actor? by = null) => Refuse();

    public Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null) => Refuse();

    public Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null, Actor? by = null) => Refuse();

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null) => Refuse();

    public Task DeleteCronJobAsync(string name, Actor? by = null) => Refuse();

    public Task<string> RunCronJobNowAsync(string name, Actor? by = null) =>
        throw new OperatorActionException("No workload runtime is enabled: set LocalRuntime__Enabled=true to run CronJobs here.");

    public Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null, Actor? by = null) => Refuse();


    private static Task Refuse() =>
        throw new OperatorActionException("No workload runtime is enabled: set LocalRuntime__Enabled=true to run Jobs and CronJobs here.");

    private sealed class Nothing : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
