using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Pages;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

public sealed class JobsPageFacts : AsyncBunitContext
{
    private readonly FakeWorkloadRuntime _runtime = new();

    public JobsPageFacts()
    {
        this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Fact]
    public async Task ARunningJobsRow_IsKeptAsItsFiguresChange()
    {
        var spec = JobSpec.Templates[1].Spec;
        _runtime.Jobs.Add(new JobView(spec, 1, 0, 0, null, null, DateTimeOffset.UtcNow, null, []));
        var page = this.RenderWithProviders<Jobs>();
        var row = page.FindComponent<MudBlazor.MudTr>().Instance;

        _runtime.Jobs[0] = new JobView(spec, 0, 1, 0, "Complete", null, _runtime.Jobs[0].StartTime, DateTimeOffset.UtcNow, []);
        await _runtime.PublishAsync();

        page.WaitForAssertion(() => Assert.Equal("Complete", page.Find("[data-testid=job-status]").TextContent.Trim()));
        Assert.Same(row, page.FindComponent<MudBlazor.MudTr>().Instance);
    }

    [Fact]
    public void Clone_FillsTheFormWithTheSpecUnderAFreeName_AndCreatesIt()
    {
        var spec = JobSpec.Templates[1].Spec with { AddTasksCount = 25 };
        _runtime.Jobs.Add(new JobView(spec, 0, 1, 0, "Complete", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, []));
        _runtime.Jobs.Add(new JobView(spec with { Name = "addwork-2" }, 0, 1, 0, "Complete", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, []));
        var page = this.RenderWithProviders<Jobs>();

        page.Act(() => page.FindAll("[data-testid=job-clone]")[0].Click());

        page.WaitForAssertion(() => Assert.Equal("addwork-3", page.Find("input[data-testid=job-name]").GetAttribute("value")));
        var shown = k8s.KubernetesYaml.Deserialize<k8s.Models.V1Job>(page.Find("[data-testid=job-yaml]").TextContent, strict: true);
        Assert.Equal(["add-tasks", "--count", "25"], shown.Spec.Template.Spec.Containers[0].Args);
        page.Act(() => page.Find("[data-testid=job-create]").Click());
        page.WaitForAssertion(() => Assert.Equal([spec with { Name = "addwork-3" }], _runtime.Created));
    }

    [Fact]
    public void CompletionsHint_SaysWhatCompletionsMean_ForTheJobInTheForm()
    {
        _runtime.Jobs.Add(new JobView(JobSpec.Templates[2].Spec, 0, 5, 0, "Complete", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, []));
        var page = this.RenderWithProviders<Jobs>();
        page.WaitForAssertion(() => Assert.Contains("empty: until the queue is empty", page.Markup));

        page.Act(() => page.Find("[data-testid=job-clone]").Click()); // the Indexed Job

        page.WaitForAssertion(() => Assert.Contains("indexes 0 to N-1", page.Markup));
        Assert.DoesNotContain("until the queue is empty", page.Markup);
    }

    [Fact]
    public void Job_ShowsItsWarningCount_AndItsAndItsPodsEvents_WhenOpened()
    {
        var now = DateTimeOffset.UtcNow;
        var pod = new PodView("broken-x7k2p", "Failed", false, 0, now, 0, 0, "node-1", null, "last exit 1 (Error)")
        {
            Events = [new ObjectEvent(now, ObjectEvent.Warning, "BackOff", "Back-off restarting failed container pi-container", 3)],
        };
        _runtime.Jobs.Add(new JobView(JobSpec.Templates[1].Spec with { Name = "broken" }, 0, 0, 3, "Failed", "BackoffLimitExceeded", now, null, [pod])
        {
            Events =
            [
                new ObjectEvent(now, ObjectEvent.Warning, "BackoffLimitExceeded", "Job has reached the specified backoff limit", 1),
                new ObjectEvent(now.AddSeconds(-30), ObjectEvent.Normal, "SuccessfulCreate", "Created pod: broken-x7k2p", 1),
            ],
        });
        _runtime.Jobs.Add(new JobView(JobSpec.Templates[1].Spec with { Name = "fine" }, 1, 0, 0, null, null, now, null, []));
        var page = this.RenderWithProviders<Jobs>();

        Assert.Equal("2", Assert.Single(page.FindAll("[data-testid=warnings]")).TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=job-details]"));

        page.Act(() => page.FindAll("[data-testid=job-details-toggle]")[0].Click());

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=job-details]")));
        var details = page.Find("[data-testid=job-details]");
        Assert.Equal(["BackoffLimitExceeded", "SuccessfulCreate", "BackOff"], details.QuerySelectorAll("[data-testid=event-reason]").Select(e => e.TextContent.Trim()));
        Assert.Contains("Job has reached the specified backoff limit", details.TextContent);
        Assert.Contains("Pod broken-x7k2p", details.TextContent);

        page.Act(() => page.FindAll("[data-testid=job-details-toggle]")[0].Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=job-details]")));
    }

    [Theory]
    [InlineData("Bad_Name", "2", "DNS-1123")]
    [InlineData("ok", "two", "Parallelism must be a whole number")]
    [InlineData("ok", "99", "Parallelism must be from 1 to 32")]
    public void Create_WithBadValues_ExplainsAndCreatesNothing(string name, string parallelism, string message)
    {
        var page = this.RenderWithProviders<Jobs>();

        page.Act(() => page.Find("input[data-testid=job-name]").Input(name));
        page.Act(() => page.FindAll("input").First(i => i.GetAttribute("value") == "2").Input(parallelism));
        page.Act(() => page.Find("[data-testid=job-create]").Click());

        page.WaitForAssertion(() => Assert.Contains(message, page.Find("[data-testid=job-errors]").TextContent));
        Assert.Empty(_runtime.Created);
    }

    [Fact]
    public void Preview_ShowsTheExactJob_AsTheFormChanges()
    {
        var page = this.RenderWithProviders<Jobs>();

        page.Act(() => page.Find("input[data-testid=job-name]").Input("nightly"));

        page.WaitForAssertion(() => Assert.Contains("name: nightly", page.Find("[data-testid=job-yaml]").TextContent));
        string yaml = page.Find("[data-testid=job-yaml]").TextContent;
        Assert.Contains("restartPolicy: OnFailure", yaml);
        Assert.Contains("name: COMPLETE_WHEN_EMPTY", yaml);
        var job = k8s.KubernetesYaml.Deserialize<k8s.Models.V1Job>(yaml, strict: true);
        Assert.Contains(job.Spec.Template.Spec.Containers[0].Env, e => e is { Name: "REDIS_HOST", Value: "fake-redis" });
    }
}
