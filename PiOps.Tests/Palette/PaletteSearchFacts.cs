using PiOps.Web.Components.Palette;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Palette;

public sealed class PaletteSearchFacts
{
    private static WorkloadSnapshot Snapshot()
    {
        var pod = new PodView("pi-worker-7f9c-abcde", "Running", true, 0, DateTimeOffset.UtcNow, 0, 0, "local", null, null);
        var jobPod = pod with { Name = "nightly-batch-x1y2z" };
        var job = new JobView(JobSpec.Templates[1].Spec with { Name = "nightly-batch" }, 1, 0, 0, null, null, DateTimeOffset.UtcNow, null, [jobPod]);
        return WorkloadSnapshot.Empty with { Workers = new DeploymentView("pi-worker", 1, 1, 1, [pod]), Jobs = [job] };
    }

    [Fact]
    public void NoQuery_OffersThePages_AndTheTokensPageOnlyToAnAdmin()
    {
        var viewer = PaletteSearch.Find("", Snapshot(), isAdmin: false);
        Assert.All(viewer, e => Assert.Equal("Page", e.Kind));
        Assert.Contains(viewer, e => e.Label == "Jobs" && e.Href == "jobs");
        Assert.DoesNotContain(PaletteSearch.Find("tokens", Snapshot(), isAdmin: false), e => e.Href == "settings");
        Assert.Contains(PaletteSearch.Find("tokens", Snapshot(), isAdmin: true), e => e.Href == "settings");
    }

    [Fact]
    public void AQuery_FindsJobsAndPodsByAnyPartOfTheirName_PrefixesFirst()
    {
        var found = PaletteSearch.Find("nightly", Snapshot(), isAdmin: false);
        Assert.Equal("Job", found[0].Kind);
        Assert.Equal("jobs?job=nightly-batch", found[0].Href);
        Assert.Contains(found, e => e.Kind == "Pod logs" && e.Href == "logs?target=pod%2Fnightly-batch-x1y2z");

        // Every word must appear, in the kind or the name, in any case.
        var words = PaletteSearch.Find("POD abcde", Snapshot(), isAdmin: false);
        var only = Assert.Single(words, e => e.Kind != "Task");
        Assert.Equal("pi-worker-7f9c-abcde", only.Label);
    }

    [Fact]
    public void AnIdShapedQuery_IsOfferedAsATaskToLookUp_AndOtherTextIsNot()
    {
        var found = PaletteSearch.Find("t-0199aa", Snapshot(), isAdmin: false);
        var task = Assert.Single(found);
        Assert.Equal("tasks?id=t-0199aa", task.Href);
        Assert.Empty(PaletteSearch.Find("no such <thing>", Snapshot(), isAdmin: false));
    }
}
