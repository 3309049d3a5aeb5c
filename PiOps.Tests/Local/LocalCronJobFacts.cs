using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Local;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Local;

/// <summary>
/// CronJobs on the local runtime with real add-tasks processes against a real redis-server, on a fake clock: a
/// minute passes when the test says so.
/// </summary>
public sealed class LocalCronJobFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 30, TimeSpan.Zero);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private readonly string _data = Directory.CreateTempSubdirectory("piops-cron-").FullName;
    private readonly FakeTimeProvider _clock = new(Start);
    private DashboardApp _app = default!;

    private IWorkloadRuntime Runtime => _app.Workloads;

    private QueueKeys Keys => new(_queue);

    private static CronJobSpec Tick => CronJobSpec.BookAddWork with
    {
        Name = "tick", Schedule = "* * * * *", SuccessfulJobsHistoryLimit = 1,
        JobTemplate = CronJobSpec.BookAddWork.JobTemplate with { AddTasksCount = 3 },
    };

    private Task<DashboardApp> StartAppAsync() =>
        DashboardApp.StartWithLocalRuntimeAsync(server, _queue, _data, initialReplicas: 0, restartDelay: "00:00:00.2",
            new Dictionary<string, string?> { ["Leases:Ttl"] = "00:00:03", ["Leases:RenewInterval"] = "00:00:01" },
            services: s => s.AddSingleton<TimeProvider>(_clock));

    public async Task InitializeAsync() => _app = await StartAppAsync();

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private string Describe() => string.Join("; ", Runtime.Current.Jobs.Select(j => $"{j.Name} {j.Condition} by {j.CronJob}")) +
                                 " | " + string.Join("; ", Runtime.Current.CronJobs.Select(c => $"{c.Name}: {c.LastEvent}"));

    private Task WaitForAsync(Func<WorkloadSnapshot, bool> condition) =>
        Eventually.WaitAsync(() => condition(Runtime.Current), Wait, Describe);

    /// <summary>Moves the clock, then waits for a whole turn of the runtime that began after the move.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        _clock.Advance(by);
        var after = _clock.GetUtcNow();
        // The runtime replaces its snapshot at the end of every turn, and publishes it only when it changed: a
        // snapshot taken after the move, then a newer one, means a whole turn began after the move.
        WorkloadSnapshot? first = null;
        await Eventually.WaitAsync(() =>
        {
            var current = Runtime.Current;
            if (first is null)
            {
                first = current.At >= after ? current : null;
                return false;
            }

            return !ReferenceEquals(current, first);
        }, Wait, "two turns of the runtime after the clock moved");
    }

    private static string JobAt(int hour, int minute) =>
        CronController.JobName("tick", new DateTimeOffset(2026, 11, 27, hour, minute, 0, TimeSpan.Zero));

    [Fact]
    public async Task ManyChangesAtOnce_AllSucceed_AndTheSavedStateIsTheLastOne()
    {
        // Each change saves workloads.json; saves that ran at once shared one temporary file and one of them threw
        // (a stressed run lost a Delete click to it). Here from many threads at once, beside the runtime's own turns.
        var names = Enumerable.Range(0, 12).Select(i => $"burst-{i}").ToList();
        await Task.WhenAll(names.Select(n => Task.Run(() => Runtime.CreateCronJobAsync(Tick with { Name = n, Schedule = "0 0 1 1 *" }))));
        await Task.WhenAll(names.Select(n => Task.Run(() => Runtime.SuspendCronJobAsync(n, true))));
        await Task.WhenAll(names.Take(6).Select(n => Task.Run(() => Runtime.DeleteCronJobAsync(n))));

        // A restart reads what was saved: the six left, each suspended.
        await _app.DisposeAsync();
        _app = await StartAppAsync();
        var kept = Runtime.Current.CronJobs;
        Assert.Equal(names.Skip(6).Order(), kept.Select(c => c.Name).Order());
        Assert.All(kept, c => Assert.True(c.Spec.Suspend, $"{c.Name} lost its suspension"));
        Assert.False(File.Exists(Path.Combine(_data, "workloads.json.tmp")));
    }

    [Fact]
    public async Task EveryMinute_StartsAJob_WhenTheMinuteComes_AndKeepsTheHistoryLimit()
    {
        await Runtime.CreateCronJobAsync(Tick);
        await AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.Empty(Runtime.Current.Jobs);

        await AdvanceAsync(TimeSpan.FromSeconds(40));

        await WaitForAsync(s => s.Jobs.Any(j => j.Name == JobAt(12, 1) && j.Condition == "Complete" && j.CronJob == "tick"));
        Assert.Equal(3, await server.Db.ListLengthAsync(Keys.Queue));
        await WaitForAsync(s => s.CronJobs.Single().LastSuccessfulTime is not null);
        var cron = Runtime.Current.CronJobs.Single();
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 12, 1, 0, TimeSpan.Zero), cron.LastScheduleTime);
        Assert.Contains(JobAt(12, 1), cron.LastEvent);

        // The next minute's Job replaces the first in the history (limit 1).
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        await WaitForAsync(s => s.Jobs.Any(j => j.Name == JobAt(12, 2) && j.Condition == "Complete"));
        await WaitForAsync(s => s.Jobs.All(j => j.Name != JobAt(12, 1)));
        Assert.Equal(6, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task WhileAnotherDashboardHoldsTheLease_NoRunStartsHere_AndTheMissedRunStartsOnTakeover()
    {
        var lease = _app.Services.GetRequiredService<PiOps.Web.HighAvailability.DashboardLeases>()
            .For(PiOps.Web.HighAvailability.DashboardLeases.LocalCronJobs);
        var key = new PiOps.Web.Redis.DashboardKeys(_queue).Lease(PiOps.Web.HighAvailability.DashboardLeases.LocalCronJobs);
        await Eventually.WaitAsync(() => lease.IsHeld, Wait, "this dashboard to hold the CronJob lease");
        // Another replica has the lease now (this one's lapsed, say, while it was stalled).
        await server.Db.StringSetAsync(key, "other-host:4242:0badc0de", TimeSpan.FromMinutes(2));
        await Eventually.WaitAsync(() => !lease.IsHeld && lease.HeldBy == "other-host:4242:0badc0de", Wait, "the lease seen as the other's");
        await Runtime.CreateCronJobAsync(Tick);

        await AdvanceAsync(TimeSpan.FromMinutes(1));
        await WaitForAsync(s => s.CronJobs.Single().LastEvent?.Contains("Standing by: the dashboard other-host:4242:0badc0de starts CronJobs' runs") == true);
        Assert.Empty(Runtime.Current.Jobs);
        Assert.Null(Runtime.Current.CronJobs.Single().LastScheduleTime);

        await server.Db.KeyDeleteAsync(key);
        await WaitForAsync(s => s.Jobs.Any(j => j.Name == JobAt(12, 1) && j.CronJob == "tick"));
    }

    [Fact]
    public async Task Suspended_StartsNothing_ButRunNowStillStartsAJob()
    {
        await Runtime.CreateCronJobAsync(Tick);
        await Runtime.SuspendCronJobAsync("tick", true);

        await AdvanceAsync(TimeSpan.FromMinutes(2));
        Assert.Empty(Runtime.Current.Jobs);
        Assert.True(Runtime.Current.CronJobs.Single().Spec.Suspend);

        string name = await Runtime.RunCronJobNowAsync("tick");

        Assert.StartsWith("tick-manual-", name);
        await WaitForAsync(s => s.Jobs.Any(j => j.Name == name && j.Condition == "Complete" && j.CronJob == "tick"));
        Assert.Equal(3, await server.Db.ListLengthAsync(Keys.Queue));

        // Resumed: the next minute runs again.
        await Runtime.SuspendCronJobAsync("tick", false);
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        await WaitForAsync(s => s.Jobs.Any(j => j.Name == JobAt(12, 3)));
    }

    [Fact]
    public async Task CronJobs_SurviveADashboardRestart_AndDeleteTakesTheirJobs()
    {
        await Runtime.CreateCronJobAsync(Tick with { Schedule = "*/5 * * * *", TimeZone = "Europe/Paris" });
        await Runtime.UpdateCronJobAsync(Tick with { Schedule = "* * * * *", TimeZone = "Europe/Paris", Suspend = false });
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        await WaitForAsync(s => s.Jobs.Any(j => j.Name == JobAt(12, 1) && j.Condition == "Complete"));

        await _app.DisposeAsync();
        _app = await StartAppAsync();

        await WaitForAsync(s => s.CronJobs.Count == 1 && s.Jobs.Count == 1);
        var cron = Runtime.Current.CronJobs.Single();
        Assert.Equal("* * * * *", cron.Spec.Schedule);
        Assert.Equal("Europe/Paris", cron.Spec.TimeZone);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 12, 1, 0, TimeSpan.Zero), cron.LastScheduleTime);

        await Runtime.DeleteCronJobAsync("tick");

        await WaitForAsync(s => s.CronJobs.Count == 0 && s.Jobs.Count == 0);
    }

    [Fact]
    public async Task BadCronJobs_AreRefusedWithASentence_AndChangeNothing()
    {
        await Runtime.CreateCronJobAsync(Tick);

        var duplicate = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateCronJobAsync(Tick));
        Assert.Contains("already exists", duplicate.Message);
        var schedule = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.UpdateCronJobAsync(Tick with { Schedule = "61 * * * *" }));
        Assert.Contains("not a valid schedule", schedule.Message);
        var name = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateCronJobAsync(Tick with { Name = "Tick_Tock" }));
        Assert.Contains("DNS-1123", name.Message);
        var missing = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.RunCronJobNowAsync("nope"));
        Assert.Contains("no CronJob named nope", missing.Message);

        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal("* * * * *", Runtime.Current.CronJobs.Single().Spec.Schedule);
        Assert.Single(Runtime.Current.CronJobs);
    }
}
