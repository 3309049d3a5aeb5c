using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Workloads;

public sealed class CronControllerFacts
{
    private static readonly DateTimeOffset Created = new(2026, 11, 27, 12, 0, 30, TimeSpan.Zero);

    private static CronJobSpec EveryMinute(ConcurrencyPolicy policy = ConcurrencyPolicy.Allow, long? deadline = null, bool suspend = false) =>
        CronJobSpec.BookAddWork with { Schedule = "* * * * *", ConcurrencyPolicy = policy, StartingDeadlineSeconds = deadline, Suspend = suspend };

    [Fact]
    public void NothingIsDue_BeforeTheFirstScheduledTime() =>
        Assert.IsType<CronDecision.Wait>(CronController.Decide(EveryMinute(), Created, null, Created.AddSeconds(20), 0));

    [Fact]
    public void ADueRun_Starts_WithTheScheduledTime()
    {
        var start = Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(), Created, null, Created.AddSeconds(40), 0));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 12, 1, 0, TimeSpan.Zero), start.Scheduled);
        Assert.False(start.ReplaceActive);
        Assert.Equal("addwork-29929681", CronController.JobName("addwork", start.Scheduled));
    }

    [Fact]
    public void ARunAlreadyStarted_IsNotStartedAgain()
    {
        var last = new DateTimeOffset(2026, 11, 27, 12, 1, 0, TimeSpan.Zero);
        Assert.IsType<CronDecision.Wait>(CronController.Decide(EveryMinute(), Created, last, last.AddSeconds(59), 0));
    }

    [Fact]
    public void Suspended_StartsNothing() =>
        Assert.IsType<CronDecision.Wait>(CronController.Decide(EveryMinute(suspend: true), Created, null, Created.AddMinutes(10), 0));

    [Fact]
    public void Forbid_WaitsWhileAJobRuns_WithoutConsumingTheRun()
    {
        var skip = Assert.IsType<CronDecision.Skip>(CronController.Decide(EveryMinute(ConcurrencyPolicy.Forbid), Created, null, Created.AddMinutes(1), 1));
        Assert.Contains("Forbid", skip.Reason);
        // Once the Job has ended, the waiting run starts.
        Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(ConcurrencyPolicy.Forbid), Created, null, Created.AddMinutes(1), 0));
    }

    [Fact]
    public void Replace_DeletesTheRunningJobs_ThenStarts() =>
        Assert.True(Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(ConcurrencyPolicy.Replace), Created, null, Created.AddMinutes(1), 2)).ReplaceActive);

    [Fact]
    public void Allow_StartsAlongsideRunningJobs() =>
        Assert.False(Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(), Created, null, Created.AddMinutes(1), 2)).ReplaceActive);

    [Fact]
    public void ARunOlderThanTheStartingDeadline_IsNotStarted()
    {
        // Due at 12:01:00, looked at 12:01:50 with a 30 s deadline: too late.
        var skip = Assert.IsType<CronDecision.Skip>(CronController.Decide(EveryMinute(deadline: 30), Created, null,
            new DateTimeOffset(2026, 11, 27, 12, 1, 50, TimeSpan.Zero), 0));
        Assert.Contains("starting deadline of 30 s", skip.Reason);
        // Within the deadline, it starts.
        Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(deadline: 60), Created, null,
            new DateTimeOffset(2026, 11, 27, 12, 1, 50, TimeSpan.Zero), 0));
    }

    [Fact]
    public void ManyMissedRuns_StartOnlyTheLatest_WithAWarning()
    {
        var start = Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(), Created, null, Created.AddHours(5), 0));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 17, 0, 0, TimeSpan.Zero), start.Scheduled);
        Assert.Contains("missed", start.Warning);
        // A dashboard stopped for a year still finds the latest run.
        var year = Assert.IsType<CronDecision.Start>(CronController.Decide(EveryMinute(), Created, null, Created.AddDays(365).AddSeconds(10), 0));
        Assert.Equal(Created.AddDays(365).AddSeconds(-30), year.Scheduled);
    }
}
