using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Logs;

/// <summary>kubectl's -l syntax: what matches, and what is refused with a sentence.</summary>
public sealed class LabelSelectorFacts
{
    private static readonly Dictionary<string, string> Worker = new() { ["pod"] = "pi", ["app.kubernetes.io/component"] = "worker" };
    private static readonly Dictionary<string, string> JobPod = new() { ["job-name"] = "addwork", ["batch.kubernetes.io/job-name"] = "addwork" };

    [Theory]
    [InlineData("pod=pi", true, false)]
    [InlineData("pod==pi", true, false)]
    [InlineData(" pod = pi ", true, false)]
    [InlineData("pod!=pi", false, true)]
    [InlineData("pod=pi,app.kubernetes.io/component=worker", true, false)]
    [InlineData("pod=pi,app.kubernetes.io/component=web", false, false)]
    [InlineData("job-name in (addwork, other)", false, true)]
    [InlineData("job-name notin (addwork)", true, false)]
    [InlineData("batch.kubernetes.io/job-name", false, true)]
    [InlineData("!job-name", true, false)]
    [InlineData("pod in (pi),!job-name", true, false)]
    [InlineData("pod=", false, false)]
    public void Selectors_MatchAsTheApiServerMatches(string text, bool worker, bool jobPod)
    {
        var selector = LabelSelector.TryParse(text, out var error);
        Assert.True(selector is not null, error);
        Assert.Equal(worker, selector.Matches(Worker));
        Assert.Equal(jobPod, selector.Matches(JobPod));
    }

    [Theory]
    [InlineData("", "at least one requirement")]
    [InlineData("   ", "at least one requirement")]
    [InlineData("pod=pi,,x=y", "empty requirement")]
    [InlineData("pod=pi,", "empty requirement")]
    [InlineData("-pod=pi", "not a valid label key")]
    [InlineData("Pod_/x=y", "not a valid label key")]
    [InlineData("a/b/c=d", "not a valid label key")]
    [InlineData("pod=pi!", "not a label requirement")]
    [InlineData("pod=-pi", "not a valid label value")]
    [InlineData("pod in (a,-b)", "not a valid label value")]
    [InlineData("pod in a,b", "not a label requirement")]
    [InlineData("pod=pi=x", "not a label requirement")]
    [InlineData("this-key-is-far-too-long-for-a-label-name-which-allows-sixty-three=x", "not a valid label key")]
    public void BadSelectors_AreExplained(string text, string expected)
    {
        Assert.Null(LabelSelector.TryParse(text, out var error));
        Assert.Contains(expected, error);
    }
}
