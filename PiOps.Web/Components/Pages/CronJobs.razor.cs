using System.Globalization;
using Microsoft.JSInterop;
using MudBlazor;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Live;
using PiOps.Web.Workloads;

namespace PiOps.Web.Components.Pages;

/// <summary>CronJobs: create from a template with a live schedule preview, edit, suspend, run now, delete.</summary>
public sealed partial class CronJobs
{
    private LiveView<WorkloadSnapshot>? _live;

    private WorkloadSnapshot Workloads => _live?.Value ?? Runtime.Current;

    public ValueTask DisposeAsync() => _live?.DisposeAsync() ?? ValueTask.CompletedTask;

    private static readonly string[] CommonZones =
        ["UTC", "America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney"];

    private const string ScheduleHelp = "minute hour day-of-month month day-of-week, or @hourly, @daily…";

    private int _template;
    private CronJobSpec _base = CronJobSpec.Templates[0].Spec;
    private string? _editing;
    private string? _name;
    private string? _schedule;
    private string? _timeZone;
    // Empty: the CronJob's own time zone, following the field as it is typed.
    private string _displayZone = "";
    private ConcurrencyPolicy _policy;
    private string? _successLimit;
    private string? _failedLimit;
    private string? _deadline;
    private bool _suspend;
    private string? _scheduleError;
    private List<string> _errors = [];
    // The version of the CronJob the edit form was filled from, sent with the save; and whether a save was refused
    // because it is stale (the form then offers to reload).
    private string? _resourceVersion;
    private bool _stale;

    protected override void OnInitialized()
    {
        _live = Live.Workloads(new(InvokeAsync, StateHasChanged), ages: s => s.CronJobs.Count > 0);
        UseTemplate(0);
    }

    private IEnumerable<string> DisplayZones => new[] { "", TimeZoneInfo.Local.Id }.Concat(CommonZones).Distinct();

    private string ZoneLabel(string zone) =>
        zone.Length > 0 ? zone : $"its own time zone ({(string.IsNullOrWhiteSpace(_timeZone) ? "UTC" : _timeZone.Trim())})";

    private CronSchedule? Parsed =>
        CronSchedule.TryParse(_schedule, _timeZone, out var schedule, out _scheduleError) ? schedule : null;

    private string InDisplayZone(DateTimeOffset run)
    {
        var zone = CronSchedule.TryFindZone(_displayZone.Length > 0 ? _displayZone : _timeZone, out var z, out _) ? z : TimeZoneInfo.Utc;
        var local = TimeZoneInfo.ConvertTime(run, zone);
        return local.ToString("ddd yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);
    }

    private void UseTemplate(int index)
    {
        _template = index;
        _editing = null;
        Fill(CronJobSpec.Templates[index].Spec);
    }

    /// <summary>Fills the form below the table with the CronJob and brings it into view.</summary>
    private async Task Edit(CronJobView cron)
    {
        _editing = cron.Name;
        _resourceVersion = cron.ResourceVersion;
        Fill(cron.Spec);
        await JS.InvokeVoidAsync("piopsScrollIntoView", "[data-testid=cron-form]");
    }

    private void Fill(CronJobSpec spec)
    {
        _base = spec;
        _name = spec.Name;
        _schedule = spec.Schedule;
        _timeZone = spec.TimeZone ?? "";
        _policy = spec.ConcurrencyPolicy;
        _successLimit = spec.SuccessfulJobsHistoryLimit.ToString(CultureInfo.InvariantCulture);
        _failedLimit = spec.FailedJobsHistoryLimit.ToString(CultureInfo.InvariantCulture);
        _deadline = spec.StartingDeadlineSeconds?.ToString(CultureInfo.InvariantCulture) ?? "";
        _suspend = spec.Suspend;
        _errors = [];
        _stale = false;
    }

    private CronJobSpec? Build(List<string> errors)
    {
        var numbers = new FormNumbers(errors);
        int? success = numbers.Whole(_successLimit, "Successful Jobs kept");
        int? failed = numbers.Whole(_failedLimit, "Failed Jobs kept");
        long? deadline = numbers.Whole(_deadline, "The starting deadline", optional: true);

        if (errors.Count > 0)
        {
            return null;
        }

        var spec = _base with
        {
            Name = (_editing ?? _name ?? "").Trim(),
            Schedule = (_schedule ?? "").Trim(),
            TimeZone = string.IsNullOrWhiteSpace(_timeZone) ? null : _timeZone.Trim(),
            ConcurrencyPolicy = _policy,
            SuccessfulJobsHistoryLimit = success!.Value,
            FailedJobsHistoryLimit = failed!.Value,
            StartingDeadlineSeconds = deadline,
            Suspend = _suspend,
            ResourceVersion = _editing is null ? null : _resourceVersion,
        };
        errors.AddRange(spec.Validate());
        return errors.Count == 0 ? spec : null;
    }

    private string Preview => Runtime.CronJobManifest(Build([]) ?? _base);

    private async Task SaveAsync()
    {
        var errors = new List<string>();
        var spec = Build(errors);
        _errors = errors;
        if (spec is null)
        {
            return;
        }

        bool creating = _editing is null;
        var failure = await Actions.TryAsync(creating ? $"create the CronJob {spec.Name}" : $"save the CronJob {spec.Name}",
            () => creating ? Runtime.CreateCronJobAsync(spec) : Runtime.UpdateCronJobAsync(spec, openedOn: _base));
        if (failure is not null)
        {
            _errors = [failure.Message];
            _stale = failure.Stale;
            return;
        }

        Snackbar.Add($"CronJob {spec.Name} {(creating ? "created" : "saved")}: {Words(spec)}.", Severity.Success);
        if (!creating)
        {
            UseTemplate(_template);
        }
    }

    /// <summary>After a refused stale save: the form again from the CronJob as it is now (the operator's typing is dropped).</summary>
    private async Task ReloadAsync()
    {
        if (Workloads.CronJobs.FirstOrDefault(c => c.Name == _editing) is { } current)
        {
            await Edit(current);
        }
        else
        {
            _errors = [$"The CronJob {_editing} is gone: it was deleted."];
            _stale = false;
        }
    }

    private async Task RunNowAsync(CronJobView cron)
    {
        string? job = null;
        await Actions.RunAsync($"start a Job from the CronJob {cron.Name}", async () => job = await Runtime.RunCronJobNowAsync(cron.Name), $"Started Job from {cron.Name}.");
        if (job is not null)
        {
            Snackbar.Add($"Job {job} is running; see it on the Jobs page.", Severity.Info);
        }
    }

    private Task ToggleSuspendAsync(CronJobView cron) =>
        Actions.RunAsync($"{(cron.Spec.Suspend ? "resume" : "suspend")} the CronJob {cron.Name}", () => Runtime.SuspendCronJobAsync(cron.Name, !cron.Spec.Suspend),
            cron.Spec.Suspend ? $"{cron.Name} resumed." : $"{cron.Name} suspended: no run starts until it is resumed.");

    private Task DeleteAsync(CronJobView cron)
    {
        int jobs = Workloads.Jobs.Count(j => j.CronJob == cron.Name);
        return Actions.RunAsync($"delete the CronJob {cron.Name}", () => Runtime.DeleteCronJobAsync(cron.Name), $"CronJob {cron.Name} deleted.",
            ($"Delete {cron.Name}?", $"The CronJob {cron.Name} is deleted with the {jobs} Job(s) it started and their pods (kubectl delete cronjob {cron.Name}).", "Delete"));
    }

    private static string Words(CronJobSpec spec) =>
        CronSchedule.TryParse(spec.Schedule, spec.TimeZone, out var s, out _) ? s!.Describe() ?? "a custom schedule" : "an invalid schedule";

    private string NextRun(CronJobView cron)
    {
        if (cron.Spec.Suspend)
        {
            return "suspended";
        }

        return CronSchedule.TryParse(cron.Spec.Schedule, cron.Spec.TimeZone, out var s, out _) && s!.Next(Workloads.At) is { } next
            ? "in " + Format.Duration(next - Workloads.At)
            : "—";
    }

    private static Color JobColor(JobView job) => job.Condition switch
    {
        "Complete" => Color.Success,
        "Failed" => Color.Error,
        _ => Color.Info,
    };
}
