using PiOps.Web;
using PiOps.Web.Workloads;

namespace PiOps.Tests.Components;

/// <summary>
/// A workload runtime for component tests: it validates as the real ones do and records what it was asked, so a test
/// can see what a form sent. Integration tests use the local runtime with real processes.
/// </summary>
public sealed class FakeWorkloadRuntime : IWorkloadRuntime
{
    public List<JobView> Jobs { get; } = [];

    public List<CronJobView> CronJobs { get; } = [];

    public AutoscalerView? Autoscaler { get; set; }

    public DeploymentView Workers { get; set; } = WorkloadSnapshot.Empty.Workers;

    public List<JobSpec> Created { get; } = [];

    public List<CronJobSpec> CreatedCronJobs { get; } = [];

    public List<CronJobSpec> UpdatedCronJobs { get; } = [];

    /// <summary>Every edit asked for, saved or refused, with the spec its form was opened on.</summary>
    public List<(CronJobSpec Spec, CronJobSpec? OpenedOn)> CronJobEdits { get; } = [];

    public List<(string Name, bool Suspend)> Suspended { get; } = [];

    public List<string> RunNow { get; } = [];

    public List<AutoscalerSpec> AutoscalerChanges { get; } = [];

    /// <summary>Every autoscaler save asked for, with the spec its form was opened on.</summary>
    public List<AutoscalerSpec?> AutoscalerOpenedOn { get; } = [];

    /// <summary>The namespace its snapshots are of; null, as on the local runtime, unless a test sets one.</summary>
    public string? Namespace { get; set; }

    public string Description => "fake runtime";

    public bool IsLocal => true;

    public WorkloadSnapshot Current => WorkloadSnapshot.Empty with
    {
        // Copies, as a real runtime builds new lists each time: a page holds the snapshot it rendered.
        At = DateTimeOffset.UtcNow, Workers = Workers, Jobs = [.. Jobs], CronJobs = [.. CronJobs], Autoscaler = Autoscaler, Namespace = Namespace,
    };

    public PodSettings Pod => PodSettings.Book("fake-redis", "6379", "queue:task");

    private readonly PiOps.Web.Utils.Subscribers<WorkloadSnapshot> _subscribers = new();

    public IDisposable Subscribe(Func<WorkloadSnapshot, Task> onChanged) => _subscribers.Add(onChanged);

    public int Subscribers => _subscribers.Count;

    /// <summary>Tells the subscribers of a new snapshot, as a runtime does after every change.</summary>
    public Task PublishAsync()
    {
        _subscribers.Publish(Current, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return Task.CompletedTask;
    }

    public Task ScaleAsync(int replicas, Actor? by = null) => Task.CompletedTask;

    public Task CreateJobAsync(JobSpec spec, Actor? by = null)
    {
        Throw(spec.Validate());
        Created.Add(spec);
        return Task.CompletedTask;
    }

    public Task<string> CreateJobFromYamlAsync(string yaml, Actor? by = null)
    {
        var job = JobYaml.Parse(yaml);
        Created.Add(Manifests.ToJobSpec(job.Metadata.Name, job.Spec));
        return Task.FromResult(job.Metadata.Name);
    }

    public Task DeleteJobAsync(string name, Actor? by = null) => Task.CompletedTask;

    public Task RerunJobAsync(string name, Actor? by = null) => Task.CompletedTask;

    public Task CreateCronJobAsync(CronJobSpec spec, Actor? by = null)
    {
        Throw(spec.Validate());
        CreatedCronJobs.Add(spec);
        return Task.CompletedTask;
    }

    public Task UpdateCronJobAsync(CronJobSpec spec, CronJobSpec? openedOn = null, Actor? by = null)
    {
        CronJobEdits.Add((spec, openedOn));
        Throw(spec.Validate());
        // As the backends do: an edit from a form opened on an older version is refused. (Saving onto a version that
        // moved only in its status is the actions layer's, proven in the workload contract on both backends.)
        if (spec.ResourceVersion is { } seen && CronJobs.FirstOrDefault(c => c.Name == spec.Name) is { } current && current.ResourceVersion != seen)
        {
            throw OperatorActionException.StaleEdit("CronJob", spec.Name);
        }

        UpdatedCronJobs.Add(spec);
        return Task.CompletedTask;
    }

    /// <summary>Thrown by the next suspend, once: a failure nobody planned for (a bug, a library's own exception).</summary>
    public Exception? NextSuspendThrows { get; set; }

    public Task SuspendCronJobAsync(string name, bool suspend, Actor? by = null)
    {
        if (NextSuspendThrows is { } ex)
        {
            NextSuspendThrows = null;
            return Task.FromException(ex);
        }

        Suspended.Add((name, suspend));
        return Task.CompletedTask;
    }

    public Task DeleteCronJobAsync(string name, Actor? by = null) => Task.CompletedTask;

    public Task<string> RunCronJobNowAsync(string name, Actor? by = null)
    {
        RunNow.Add(name);
        return Task.FromResult(name + "-manual-abcde");
    }

    public Task SetAutoscalerAsync(AutoscalerSpec spec, AutoscalerSpec? openedOn = null, Actor? by = null)
    {
        AutoscalerOpenedOn.Add(openedOn);
        Throw(spec.Validate(32));
        AutoscalerChanges.Add(spec);
        return Task.CompletedTask;
    }


    private static void Throw(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        if (list.Count > 0)
        {
            throw new OperatorActionException(string.Join(" ", list));
        }
    }

    private sealed class Nothing : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
