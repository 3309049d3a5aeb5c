using PiOps.Web.Components.Controls;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Accessibility;

/// <summary>The live region's messages: bounded, never repeated back to back, and only news.</summary>
public sealed class AnnouncerFacts
{
    [Fact]
    public void Take_JoinsWhatIsPending_AsSentences_AndClearsIt()
    {
        var announcer = new Announcer();
        announcer.Say("Job a created");
        announcer.Say("Redis answers again.");

        Assert.Equal("Job a created. Redis answers again.", announcer.Take());
        Assert.Null(announcer.Take());
    }

    [Fact]
    public void ABurst_KeepsTheNewestMessages_AndSaysHowManyWereSkipped()
    {
        var announcer = new Announcer();
        for (int i = 1; i <= 10; i++)
        {
            announcer.Say($"message {i}");
        }

        Assert.Equal("7 earlier message(s) skipped. message 8. message 9. message 10.", announcer.Take());
    }

    [Fact]
    public void TheSameWordsTwiceInARow_AreSaidOnce()
    {
        var announcer = new Announcer();
        announcer.Say("Redis is unreachable");
        announcer.Say("Redis is unreachable");

        Assert.Equal("Redis is unreachable.", announcer.Take());
    }

    [Fact]
    public void OnChanged_IsCalledForEachMessage_UntilDisposed()
    {
        var announcer = new Announcer();
        int calls = 0;
        var subscription = announcer.OnChanged(() =>
        {
            calls++;
            return Task.CompletedTask;
        });
        announcer.Say("one");
        subscription.Dispose();
        announcer.Say("two");

        Assert.Equal(1, calls);
    }

    [Fact]
    public void NewlyFailed_NamesOnlyJobsThatWereNotFailedBefore()
    {
        JobView Job(string name, string? condition) =>
            new(JobSpec.Templates[0].Spec with { Name = name }, 0, 0, 0, condition, null, DateTimeOffset.UtcNow, null, []);
        var before = new[] { Job("old", "Failed"), Job("running", null), Job("done", "Complete") };
        var after = new[] { Job("old", "Failed"), Job("running", "Failed"), Job("done", "Complete"), Job("new", "Failed") };

        Assert.Equal(["running", "new"], Announcer.NewlyFailed(before, after).Select(j => j.Name));
    }
}
