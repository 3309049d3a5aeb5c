using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Workloads;

public sealed class CronScheduleFacts
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static CronSchedule Parse(string schedule, string? zone = null)
    {
        Assert.True(CronSchedule.TryParse(schedule, zone, out var result, out var error), error);
        return result!;
    }

    [Theory]
    [InlineData("* * * * *", "every minute")]
    [InlineData("*/5 * * * *", "every 5 minutes")]
    [InlineData("0 * * * *", "every hour, on the hour")]
    [InlineData("@hourly", "every hour, on the hour")]
    [InlineData("15 * * * *", "every hour at minute 15")]
    [InlineData("0 */6 * * *", "every 6 hours at minute 0")]
    [InlineData("30 2 * * *", "every day at 02:30")]
    [InlineData("@daily", "every day at 00:00")]
    [InlineData("@midnight", "every day at 00:00")]
    [InlineData("0 9 * * 1-5", "every weekday (Monday to Friday) at 09:00")]
    [InlineData("0 9 * * MON-FRI", "every weekday (Monday to Friday) at 09:00")]
    [InlineData("0 0 * * 0", "every Sunday at 00:00")]
    [InlineData("@weekly", "every Sunday at 00:00")]
    [InlineData("0 8 * * 1,3", "every Monday and Wednesday at 08:00")]
    [InlineData("0 0 1 * *", "on day 1 of every month at 00:00")]
    [InlineData("@monthly", "on day 1 of every month at 00:00")]
    [InlineData("@yearly", "every year on 1 January at 00:00")]
    [InlineData("0 12 25 DEC *", "every year on 25 December at 12:00")]
    public void CommonForms_AreReadOutInWords(string schedule, string words) =>
        Assert.Equal(words, Parse(schedule).Describe());

    [Theory]
    [InlineData("5,35 1-3 * * *")]
    [InlineData("0 0 1,15 * MON")]
    public void UncommonForms_HaveNoWords_ButStillParse(string schedule) =>
        Assert.Null(Parse(schedule).Describe());

    [Fact]
    public void NextRuns_AreTheNextFive_AfterTheGivenTime()
    {
        var runs = Parse("*/5 * * * *").NextRuns(Noon.AddSeconds(1), 5);
        Assert.Equal([Noon.AddMinutes(5), Noon.AddMinutes(10), Noon.AddMinutes(15), Noon.AddMinutes(20), Noon.AddMinutes(25)], runs);
    }

    [Fact]
    public void NextRuns_FollowTheTimeZone_AcrossDaylightSaving()
    {
        // 02:30 every day in New York: on 2027-03-14 the clocks jump from 02:00 to 03:00, and the run happens at
        // 03:00 local (Cronos does not skip it, as Vixie cron); the offsets change from -5 to -4.
        var schedule = Parse("30 2 * * *", "America/New_York");
        var runs = schedule.NextRuns(new DateTimeOffset(2027, 3, 12, 12, 0, 0, TimeSpan.Zero), 3);
        Assert.Equal(new DateTimeOffset(2027, 3, 13, 7, 30, 0, TimeSpan.Zero), runs[0].ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2027, 3, 14, 7, 0, 0, TimeSpan.Zero), runs[1].ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2027, 3, 15, 6, 30, 0, TimeSpan.Zero), runs[2].ToUniversalTime());
    }

    [Fact]
    public void RestrictedDayOfMonthAndDayOfWeek_MatchEither_AsKubernetes()
    {
        // "0 0 13 * FRI": the 13th of any month, or any Friday (Vixie cron and Kubernetes), not only Friday the 13th.
        var runs = Parse("0 0 13 * FRI").NextRuns(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero), 3);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero), runs[0]);
        Assert.Equal(new DateTimeOffset(2026, 12, 11, 0, 0, 0, TimeSpan.Zero), runs[1]);
        Assert.Equal(new DateTimeOffset(2026, 12, 13, 0, 0, 0, TimeSpan.Zero), runs[2]);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("* * * *", "has 4 field(s)")]
    [InlineData("0 * * * * *", "has 6 field(s)")]
    [InlineData("60 * * * *", "not a valid schedule")]
    [InlineData("* 24 * * *", "not a valid schedule")]
    [InlineData("* * 32 * *", "not a valid schedule")]
    [InlineData("* * * 13 *", "not a valid schedule")]
    [InlineData("* * L * *", "does not accept")]
    [InlineData("* * 15W * *", "does not accept")]
    [InlineData("* * * * 5#3", "does not accept")]
    [InlineData("H * * * *", "does not accept")]
    [InlineData("*/x * * * *", "does not accept")]
    [InlineData("@every 5m", "write the interval as fields")]
    [InlineData("@often", "not a schedule macro")]
    [InlineData("TZ=Europe/Paris 0 * * * *", "time zone field")]
    [InlineData("CRON_TZ=UTC 0 * * * *", "time zone field")]
    [InlineData("5-1 * * * *", "starts after it ends")] // Cronos reads a wrap-around; Kubernetes refuses it
    [InlineData("0 0 * DEC-JAN *", "starts after it ends")]
    public void BadSchedules_AreRefusedWithASentence(string schedule, string expected)
    {
        Assert.False(CronSchedule.TryParse(schedule, null, out var result, out var error));
        Assert.Null(result);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("not a zone")]
    public void UnknownTimeZones_AreRefused(string zone)
    {
        Assert.False(CronSchedule.TryParse("* * * * *", zone, out _, out var error));
        Assert.Contains("time zone", error);
    }

    [Fact]
    public void LatestRun_IsTheMostRecentDueTime_AndCountsTheMissed()
    {
        var schedule = Parse("* * * * *");
        var (latest, missed) = schedule.LatestRun(Noon, Noon.AddMinutes(3).AddSeconds(30));
        Assert.Equal(Noon.AddMinutes(3), latest);
        Assert.Equal(3, missed);
        Assert.Equal((null, 0), schedule.LatestRun(Noon, Noon.AddSeconds(59)));
    }

    [Fact]
    public void ALongBadSchedule_IsShortenedInTheMessage()
    {
        string schedule = string.Join(",", Enumerable.Range(0, 3000).Select(i => (i % 60).ToString())) + " * * * * *";

        Assert.False(CronSchedule.TryParse(schedule, null, out _, out var error));
        Assert.Contains("has 6 field(s)", error);
        Assert.True(error!.Length < 400, error);
    }

    [Theory]
    [InlineData("addwork\n")]
    [InlineData("Add_Work")]
    public void Names_EndingInANewLine_OrWithCapitals_AreNotDns1123(string name)
    {
        Assert.Contains((JobSpec.Templates[1].Spec with { Name = name }).Validate(), p => p.Contains("DNS-1123"));
        Assert.Contains((CronJobSpec.BookAddWork with { Name = name }).Validate(), p => p.Contains("DNS-1123"));
    }
}
