using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Pages;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

public sealed class CronJobsPageFacts : AsyncBunitContext
{
    private readonly FakeWorkloadRuntime _runtime = new();

    public CronJobsPageFacts()
    {
        this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Fact]
    public void SchedulePreview_ReadsTheScheduleOut_AndListsTheNextFiveRuns()
    {
        var page = this.RenderWithProviders<CronJobs>();

        page.Act(() => page.Find("input[data-testid=cron-schedule]").Input("0 9 * * MON-FRI"));
        page.Act(() => page.Find("input[data-testid=cron-zone]").Input("Asia/Tokyo"));

        page.WaitForAssertion(() => Assert.Contains("every weekday (Monday to Friday) at 09:00 (Asia/Tokyo)", page.Find("[data-testid=cron-words]").TextContent));
        var runs = page.FindAll("[data-testid=cron-next] li").Select(li => li.TextContent).ToList();
        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Contains("09:00 +09:00", r));
        Assert.DoesNotContain(runs, r => r.StartsWith("Sat", StringComparison.Ordinal) || r.StartsWith("Sun", StringComparison.Ordinal));
        var cron = k8s.KubernetesYaml.Deserialize<k8s.Models.V1CronJob>(page.Find("[data-testid=cron-yaml]").TextContent, strict: true);
        Assert.Equal("Asia/Tokyo", cron.Spec.TimeZone);
        Assert.Equal("0 9 * * MON-FRI", cron.Spec.Schedule);
    }

    [Fact]
    public void LastRun_CountsARunNow_ThoughKubernetesSetsNoLastScheduleTimeForIt()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-40);
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, started.AddMinutes(-5), null, started.AddSeconds(5), [], null));
        _runtime.Jobs.Add(new JobView(JobSpec.Templates[1].Spec with { Name = "addwork-manual-x7k2p" }, 0, 1, 0, "Complete", null,
            started, started.AddSeconds(5), [], CronJobSpec.BookAddWork.Name));
        var page = this.RenderWithProviders<CronJobs>();

        page.WaitForAssertion(() => Assert.Matches(@"^\d+(\.\d)? s ago \(run now\)$", page.Find("[data-testid=cron-last-run]").TextContent.Trim()));
        Assert.DoesNotContain("never", page.Find("[data-testid=cron-last-run]").TextContent);
    }

    [Theory]
    [InlineData("addwork", "* * * *", "", "has 4 field(s)")]
    [InlineData("addwork", "*/5 * * * *", "Moon/Base", "not a known time zone")]
    [InlineData("Add_Work", "*/5 * * * *", "", "DNS-1123")]
    [InlineData("a-name-that-is-far-too-long-for-a-cronjob-of-kubernetes", "*/5 * * * *", "", "use 1 to 52")]
    public void Create_WithBadValues_ExplainsAndCreatesNothing(string name, string schedule, string zone, string message)
    {
        var page = this.RenderWithProviders<CronJobs>();

        page.Act(() => page.Find("input[data-testid=cron-name]").Input(name));
        page.Act(() => page.Find("input[data-testid=cron-schedule]").Input(schedule));
        page.Act(() => page.Find("input[data-testid=cron-zone]").Input(zone));
        page.Act(() => page.Find("[data-testid=cron-create]").Click());

        page.WaitForAssertion(() => Assert.Contains(message, page.Find("[data-testid=cron-errors]").TextContent));
        Assert.Empty(_runtime.CreatedCronJobs);
    }

    [Fact]
    public async Task Edit_FromAFormOpenedBeforeAnotherChange_IsRefused_AndReloadShowsTheCurrentCronJob()
    {
        var created = DateTimeOffset.UtcNow.AddHours(-1);
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, created, null, null, [], null) { ResourceVersion = "41" });
        var page = this.RenderWithProviders<CronJobs>();
        page.Act(() => page.Find("[data-testid=cron-edit]").Click());
        page.WaitForAssertion(() => Assert.Equal("*/5 * * * *", page.Find("input[data-testid=cron-schedule]").GetAttribute("value")));

        // Meanwhile another operator sets the schedule to hourly.
        _runtime.CronJobs[0] = new CronJobView(CronJobSpec.BookAddWork with { Schedule = "@hourly" }, created, null, null, [], null) { ResourceVersion = "42" };
        await _runtime.PublishAsync();
        page.Act(() => page.Find("input[data-testid=cron-deadline]").Input("600"));
        page.Act(() => page.Find("[data-testid=cron-save]").Click());

        page.WaitForAssertion(() => Assert.Contains("Someone else changed the CronJob addwork after this form was opened", page.Find("[data-testid=cron-errors]").TextContent));
        Assert.Empty(_runtime.UpdatedCronJobs);
        page.Act(() => page.Find("[data-testid=cron-reload]").Click());
        page.WaitForAssertion(() => Assert.Equal("@hourly", page.Find("input[data-testid=cron-schedule]").GetAttribute("value")));
        Assert.Empty(page.FindAll("[data-testid=cron-errors]"));
        page.Act(() => page.Find("input[data-testid=cron-deadline]").Input("600"));
        page.Act(() => page.Find("[data-testid=cron-save]").Click());

        page.WaitForAssertion(() => Assert.Single(_runtime.UpdatedCronJobs));
        Assert.Equal("@hourly", _runtime.UpdatedCronJobs[0].Schedule);
        Assert.Equal(600, _runtime.UpdatedCronJobs[0].StartingDeadlineSeconds);
        Assert.Equal("42", _runtime.UpdatedCronJobs[0].ResourceVersion);
    }

    [Fact]
    public async Task Edit_SendsTheSpecTheFormWasOpenedOn_SoAStatusOnlyMoveDoesNotRefuseIt()
    {
        // Seen in a stressed run: a run now's Job succeeded between Edit and Save; the status update gave the CronJob a
        // new resourceVersion, and the save was refused as "someone else changed" it, though nobody had. The actions
        // layer saves onto such a version when it knows what the form was opened on (WorkloadRuntimeContract).
        var created = DateTimeOffset.UtcNow.AddHours(-1);
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, created, null, null, [], null) { ResourceVersion = "41" });
        var page = this.RenderWithProviders<CronJobs>();
        page.Act(() => page.Find("[data-testid=cron-edit]").Click());
        page.WaitForAssertion(() => Assert.Equal("*/5 * * * *", page.Find("input[data-testid=cron-schedule]").GetAttribute("value")));

        _runtime.CronJobs[0] = new CronJobView(CronJobSpec.BookAddWork, created, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, [], null) { ResourceVersion = "42" };
        await _runtime.PublishAsync();
        page.Act(() => page.Find("input[data-testid=cron-schedule]").Input("*/10 * * * *"));
        page.Act(() => page.Find("[data-testid=cron-save]").Click());

        page.WaitForAssertion(() => Assert.Single(_runtime.CronJobEdits));
        var (spec, openedOn) = _runtime.CronJobEdits[0];
        Assert.Equal("*/10 * * * *", spec.Schedule);
        Assert.Equal("41", spec.ResourceVersion);
        Assert.NotNull(openedOn);
        IWorkloadRuntime runtime = _runtime;
        Assert.Equal(runtime.CronJobManifest(CronJobSpec.BookAddWork), runtime.CronJobManifest(openedOn));
    }

    [Fact]
    public void Create_SendsTheSpecOfTheForm()
    {
        var page = this.RenderWithProviders<CronJobs>();

        page.Act(() => page.Find("input[data-testid=cron-name]").Input("nightly"));
        page.Act(() => page.Find("input[data-testid=cron-schedule]").Input("@daily"));
        page.Act(() => page.Find("input[data-testid=cron-deadline]").Input("600"));
        page.Act(() => page.Find("[data-testid=cron-create]").Click());

        page.WaitForAssertion(() => Assert.Single(_runtime.CreatedCronJobs));
        Assert.Equal(CronJobSpec.BookAddWork with { Name = "nightly", Schedule = "@daily", StartingDeadlineSeconds = 600 }, _runtime.CreatedCronJobs[0]);
    }

    [Fact]
    public async Task ARowWhoseCronJobChanges_KeepsItsElements_SoAClickDuringARefreshIsNotLost()
    {
        // Each snapshot makes new records (and new lists): rows keyed by the record were replaced at every refresh.
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, DateTimeOffset.UtcNow, null, null, [], null));
        var page = this.RenderWithProviders<CronJobs>();
        var row = page.FindComponent<MudBlazor.MudTr>().Instance;

        _runtime.CronJobs[0] = _runtime.CronJobs[0] with { Active = ["addwork-manual-x7k2q"], LastEvent = "Run now: started Job addwork-manual-x7k2q." };
        await _runtime.PublishAsync();

        page.WaitForAssertion(() => Assert.Contains("Run now: started Job", page.Find("[data-testid=cron-event]").TextContent));
        Assert.Same(row, page.FindComponent<MudBlazor.MudTr>().Instance);
    }

    [Fact]
    public void Row_RunNowSuspendAndEdit_CallTheRuntime()
    {
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, DateTimeOffset.UtcNow, null, null, [], null));
        var page = this.RenderWithProviders<CronJobs>();

        page.Act(() => page.Find("[data-testid=cron-run-now]").Click());
        page.WaitForAssertion(() => Assert.Equal(["addwork"], _runtime.RunNow));
        page.Act(() => page.Find("[data-testid=cron-suspend]").Click());
        page.WaitForAssertion(() => Assert.Equal([("addwork", true)], _runtime.Suspended));

        page.Act(() => page.Find("[data-testid=cron-edit]").Click());
        page.WaitForAssertion(() => Assert.Equal("*/5 * * * *", page.Find("input[data-testid=cron-schedule]").GetAttribute("value")));
        page.Act(() => page.Find("input[data-testid=cron-schedule]").Input("*/15 * * * *"));
        page.Act(() => page.Find("[data-testid=cron-save]").Click());
        page.WaitForAssertion(() => Assert.Equal(["*/15 * * * *"], _runtime.UpdatedCronJobs.Select(c => c.Schedule)));
    }

    [Fact]
    public async Task Viewer_SeesTheCronJobs_ButEveryActionIsDisabled()
    {
        await using var viewer = new BunitContext();
        viewer.AddTestServices(PiOps.Web.Security.Roles.Viewer);
        var runtime = new FakeWorkloadRuntime();
        runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, DateTimeOffset.UtcNow, null, null, [], null));
        viewer.Services.AddSingleton<IWorkloadRuntime>(runtime);

        var page = viewer.RenderWithProviders<CronJobs>();

        Assert.Contains("addwork", page.Find("[data-testid=cronjobs-table]").TextContent);
        foreach (var id in new[] { "cron-create", "cron-run-now", "cron-suspend", "cron-delete" })
        {
            Assert.True(page.Find($"[data-testid={id}]").HasAttribute("disabled"), id);
        }
    }

}

public sealed class AutoscalingPageFacts : AsyncBunitContext
{
    private readonly FakeWorkloadRuntime _runtime = new();

    public AutoscalingPageFacts()
    {
        this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Theory]
    [InlineData("0", "10", "20", "", "Min replicas must be from 1")]
    [InlineData("3", "2", "20", "", "Max replicas must be from min replicas")]
    [InlineData("1", "10", "", "", "at least one target")]
    [InlineData("1", "ten", "20", "", "Max replicas must be a whole number")]
    [InlineData("1", "10", "x", "", "The CPU target must be a whole number, or empty")]
    public void Save_WithBadValues_ExplainsAndChangesNothing(string min, string max, string cpu, string queue, string message)
    {
        var page = this.RenderWithProviders<Autoscaling>();

        page.Act(() => page.Find("input[data-testid=hpa-min]").Input(min));
        page.Act(() => page.Find("input[data-testid=hpa-max]").Input(max));
        page.Act(() => page.Find("input[data-testid=hpa-cpu-target]").Input(cpu));
        page.Act(() => page.Find("input[data-testid=hpa-queue-target]").Input(queue));
        page.Act(() => page.Find("[data-testid=hpa-save]").Click());

        page.WaitForAssertion(() => Assert.Contains(message, page.Find("[data-testid=hpa-errors]").TextContent));
        Assert.Empty(_runtime.AutoscalerChanges);
    }

    [Fact]
    public void Save_SendsTheSettings_AndTheKubectlLineFollowsThem()
    {
        var page = this.RenderWithProviders<Autoscaling>();

        page.Act(() => page.Find("input[data-testid=hpa-min]").Input("1"));
        page.Act(() => page.Find("input[data-testid=hpa-queue-target]").Input("25"));
        page.Act(() => page.Find("[data-testid=hpa-save]").Click());

        page.WaitForAssertion(() => Assert.Equal([AutoscalerSpec.Book with { MinReplicas = 1, TargetQueueLengthPerReplica = 25 }], _runtime.AutoscalerChanges));
        Assert.Contains("kubectl delete hpa", page.Markup);
    }

    [Fact]
    public async Task Save_SendsTheSpecTheFormWasOpenedOn_SoTheAutoscalersOwnScalingDoesNotRefuseIt()
    {
        var spec = new AutoscalerSpec(true, 1, 5, 20, null, 300);
        AutoscalerView View(int current, string version) => new(spec, "HorizontalPodAutoscaler", current, current, 30, null, null, null, null, [])
            { ResourceVersion = version };
        _runtime.Autoscaler = View(2, "7");
        var page = this.RenderWithProviders<Autoscaling>();

        // The autoscaler scales (its status moves, a new version) while the operator types.
        _runtime.Autoscaler = View(3, "8");
        await _runtime.PublishAsync();
        page.Act(() => page.Find("input[data-testid=hpa-max]").Input("6"));
        page.Act(() => page.Find("[data-testid=hpa-save]").Click());

        page.WaitForAssertion(() => Assert.Single(_runtime.AutoscalerChanges));
        Assert.Equal((6, "7"), (_runtime.AutoscalerChanges[0].MaxReplicas, _runtime.AutoscalerChanges[0].ResourceVersion));
        Assert.Equal(spec, Assert.Single(_runtime.AutoscalerOpenedOn));
    }

    [Fact]
    public void State_ShowsReplicasMetricsAndWhy()
    {
        _runtime.Autoscaler = new AutoscalerView(new AutoscalerSpec(true, 1, 5, 20, 10, 60), "local autoscaler", 2, 4, 63, 40,
            DateTimeOffset.UtcNow, "queue length 40 against 10 per replica → 4.", "Scaled from 2 to 4: queue length 40.",
            [new AutoscalerPoint(DateTimeOffset.UtcNow, 2, 4, 40)]);

        var page = this.RenderWithProviders<Autoscaling>();

        Assert.Contains("2 → 4", page.Find("[data-testid=hpa-replicas]").TextContent);
        Assert.Contains("63 %", page.Find("[data-testid=hpa-cpu]").TextContent);
        Assert.Contains("Scaled from 2 to 4", page.Find("[data-testid=hpa-event]").TextContent);
        Assert.Contains("kubectl autoscale deployment pi-worker --cpu-percent=20 --min=1 --max=5", page.Markup);
    }

}

public sealed class JobTimelineFacts : BunitContext
{
    [Fact]
    public void Timeline_DrawsTheRecentJobs_ByOutcome_NewestFirst()
    {
        var now = DateTimeOffset.UtcNow;
        var spec = JobSpec.Templates[1].Spec;
        JobView Job(string name, string? condition, int startedMinutesAgo, int? tookMinutes) =>
            new(spec with { Name = name }, 0, 0, 0, condition, null, now.AddMinutes(-startedMinutesAgo),
                tookMinutes is { } t ? now.AddMinutes(-startedMinutesAgo + t) : null, []);

        var timeline = Render<JobTimeline>(p => p
            .Add(t => t.Jobs, [Job("old", "Complete", 30, 5), Job("broken", "Failed", 20, 1), Job("now", null, 5, null)])
            .Add(t => t.Now, now));

        var rows = timeline.FindAll("[data-testid=timeline-row]");
        Assert.Equal(["now", "broken", "old"], rows.Select(r => r.GetAttribute("data-job")));
        Assert.Equal(["Running", "Failed", "Complete"], rows.Select(r => r.GetAttribute("data-outcome")));
        // The oldest starts at the left edge of the bars (30%); the running one reaches now (100%).
        Assert.Equal("30", rows[2].QuerySelector("rect")!.GetAttribute("x")!.TrimEnd('%'));
        var running = rows[0].QuerySelector("rect")!;
        double x = double.Parse(running.GetAttribute("x")!.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
        double width = double.Parse(running.GetAttribute("width")!.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(100, x + width, 1);
    }
}
