using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// The namespace's Jobs: a timeline and a table with each Job's events, re-run, logs, clone and delete; and forms that
/// create a Job from a template or from YAML.
/// </summary>
public sealed partial class Jobs
{
    private LiveView<WorkloadSnapshot>? _live;

    private WorkloadSnapshot Workloads => _live?.Value ?? Runtime.Current;

    // What an empty or given count means depends on the kind of Job the form holds.
    private string CompletionsHint => _base.Indexed ? "indexes 0 to N-1, one per completion (JOB_COMPLETION_INDEX)"
        : _base.Command == JobCommand.AddTasks ? "how many pods must succeed"
        : "empty: until the queue is empty";
    private const string YamlPlaceholder = "apiVersion: batch/v1\nkind: Job\n…";
    private int _template;
    private JobSpec _base = JobSpec.Templates[0].Spec;
    private JobRestartPolicy _restartPolicy;
    private string? _name;
    private string? _parallelism;
    private string? _completions;
    private string? _backoff;
    private List<string> _errors = [];
    private string? _yaml;
    private string? _yamlError;
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);

    /// <summary>Deep link: the Job whose events are open, e.g. /jobs?job=addwork.</summary>
    [SupplyParameterFromQuery(Name = "job")]
    public string? OpenJob { get; set; }

    private void Toggle(string job)
    {
        if (!_open.Remove(job))
        {
            _open.Add(job);
        }

        if (RendererInfo.IsInteractive)
        {
            Nav.NavigateTo(Nav.GetUriWithQueryParameter("job", _open.Contains(job) ? job : _open.FirstOrDefault()), replace: true);
        }
    }

    private async Task CreateFromYamlAsync()
    {
        _yamlError = null;
        string? name = null;
        _yamlError = (await Actions.TryAsync("create a Job from the YAML", async () => name = await Runtime.CreateJobFromYamlAsync(_yaml ?? "")))?.Message;
        if (name is not null)
        {
            Snackbar.Add($"Job {name} created from YAML.", Severity.Success);
        }
    }

    protected override void OnInitialized()
    {
        _live = Live.Workloads(new(InvokeAsync, StateHasChanged), ages: s => s.Jobs.Count > 0);
        if (!string.IsNullOrWhiteSpace(OpenJob))
        {
            _open.Add(OpenJob.Trim());
        }

        UseTemplate(0);
    }

    private void UseTemplate(int index)
    {
        _template = index;
        Fill(JobSpec.Templates[index].Spec, JobSpec.Templates[index].Spec.Name);
    }

    /// <summary>The book's "clone under a new name": the same spec, a name no Job has yet.</summary>
    private void Clone(JobView job)
    {
        var taken = Workloads.Jobs.Select(j => j.Name).ToHashSet();
        string name = Enumerable.Range(2, 1000).Select(i => $"{job.Name}-{i}").First(n => !taken.Contains(n));
        Fill(job.Spec, name.Length <= 63 ? name : job.Name[..Math.Min(job.Name.Length, 58)] + "-copy");
        Snackbar.Add($"The form holds a copy of {job.Name} as {_name}: change what you need, then Create.", Severity.Info);
    }

    private void Fill(JobSpec spec, string name)
    {
        _base = spec;
        _name = name;
        _restartPolicy = spec.RestartPolicy;
        _parallelism = spec.Parallelism.ToString(CultureInfo.InvariantCulture);
        _completions = spec.Completions?.ToString(CultureInfo.InvariantCulture) ?? "";
        _backoff = spec.BackoffLimit.ToString(CultureInfo.InvariantCulture);
        _errors = [];
    }

    private JobSpec? Build(List<string> errors)
    {
        var numbers = new FormNumbers(errors);
        int? parallelism = numbers.Whole(_parallelism, "Parallelism");
        int? completions = numbers.Whole(_completions, "Completions", optional: true);
        int? backoff = numbers.Whole(_backoff, "The backoff limit");
        if (errors.Count > 0)
        {
            return null;
        }

        var spec = _base with
        {
            Name = (_name ?? "").Trim(), Parallelism = parallelism!.Value, Completions = completions, BackoffLimit = backoff!.Value,
            RestartPolicy = _restartPolicy,
        };
        errors.AddRange(spec.Validate());
        return errors.Count == 0 ? spec : null;
    }

    private string Preview
    {
        get
        {
            // On a cluster, the exact object the runtime will send; locally, the same Job with the book's image.
            return Runtime.JobManifest(Build([]) ?? _base);
        }
    }

    private async Task CreateAsync()
    {
        var errors = new List<string>();
        var spec = Build(errors);
        _errors = errors;
        if (spec is null)
        {
            return;
        }

        if (await Actions.TryAsync($"create the Job {spec.Name}", () => Runtime.CreateJobAsync(spec)) is { } failure)
        {
            _errors = [failure.Message];
            return;
        }

        Snackbar.Add($"Job {spec.Name} created.", Severity.Success);
    }

    private Task RerunAsync(JobView job) =>
        Actions.RunAsync($"re-run the Job {job.Name}", () => Runtime.RerunJobAsync(job.Name), $"Job {job.Name} re-created.",
            ($"Re-run {job.Name}?", $"The Job {job.Name} and its pods are deleted, and once they are gone it is created again from the same spec (kubectl delete, then create).", "Re-run"));

    private Task DeleteAsync(JobView job) =>
        Actions.RunAsync($"delete the Job {job.Name}", () => Runtime.DeleteJobAsync(job.Name), $"Job {job.Name} deleted.",
            ($"Delete {job.Name}?", $"The Job {job.Name} is deleted and its {job.Active} running pod(s) are stopped (SIGTERM, then SIGKILL after the grace period).", "Delete"));

    private static Color StatusColor(JobView j) => j.Condition switch
    {
        "Complete" => Color.Success,
        "Failed" => Color.Error,
        "Deleting" => Color.Warning,
        _ => Color.Info,
    };

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;
}
