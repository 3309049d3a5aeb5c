using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Audit;
using PiOps.Web.Queue;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>
/// What the dashboard tells about Redis itself: a restart (its run_id), a restart that lost the data (counters went
/// backwards), and an outage where Redis holds its connections but answers nothing (SIGSTOP).
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class RedisNoticeFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static Task<IReadOnlyList<AuditEntry>> AuditAsync(DashboardApp app) => app.Services.GetRequiredService<AuditLog>().ReadAsync(100);

    [Fact]
    public async Task RedisRestartedEmpty_TheOverviewAndTheAuditSayTheDataIsGone()
    {
        string queue = TestRedisServer.NewQueueName();
        await TaskLedger.EnqueueAsync(server.Client, queue, 30, 1000);
        await using var app = await DashboardApp.StartAsync(server, queue);
        var state = app.Services.GetRequiredService<IQueueState>();
        await Eventually.WaitAsync(() => state.Current.Totals.Enqueued == 30, TimeSpan.FromSeconds(20), "the dashboard to see 30 enqueued");

        await server.RestartEmptyAsync();

        await Eventually.WaitAsync(() => state.Current.Notice?.DataLost == true, TimeSpan.FromSeconds(60),
            () => $"the dashboard to notice the lost data: {state.Current.RedisError} {state.Current.Notice}");
        var notice = state.Current.Notice!;
        Assert.True(notice.Restarted, notice.Message);
        Assert.Contains("enqueued 30 → 0", notice.Message);
        Assert.Contains("30 task(s) were waiting before and 0 are now", notice.Message);
        var entry = (await AuditAsync(app)).First(e => e.Action == "redis data lost");
        Assert.Equal(notice.Message, entry.Error);
        using var http = app.CreateClient();
        Assert.Contains("came back without the queue", await http.GetStringAsync("/"));
    }

    [Fact]
    public async Task RedisRestartedWithItsData_IsNoticedAsARestart_WithTheDataIntact()
    {
        string queue = TestRedisServer.NewQueueName();
        await TaskLedger.EnqueueAsync(server.Client, queue, 5, 1000);
        await using var app = await DashboardApp.StartAsync(server, queue);
        var state = app.Services.GetRequiredService<IQueueState>();
        await Eventually.WaitAsync(() => state.Current.Totals.Enqueued == 5, TimeSpan.FromSeconds(20), "the dashboard to see 5 enqueued");

        await server.RestartAsync(TimeSpan.FromSeconds(1));

        await Eventually.WaitAsync(() => state.Current.Notice is not null, TimeSpan.FromSeconds(60),
            () => $"the dashboard to notice the restart: {state.Current.RedisError}");
        var notice = state.Current.Notice!;
        Assert.True(notice.Restarted, notice.Message);
        Assert.False(notice.DataLost, notice.Message);
        Assert.Contains("its data is intact", notice.Message);
        Assert.Contains(await AuditAsync(app), e => e.Action == "redis restarted" && e.Succeeded);
    }

    [Fact]
    public async Task RedisFrozen_ReadinessIs503WithinTwoSeconds_AndTheBannerIsASentence()
    {
        string queue = TestRedisServer.NewQueueName();
        await using var app = await DashboardApp.StartAsync(server, queue);
        var state = app.Services.GetRequiredService<IQueueState>();
        using var http = app.CreateClient();
        await Eventually.WaitAsync(() => state.Current.RedisAvailable, TimeSpan.FromSeconds(20), "a first sample");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        await server.FreezeAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            var ready = await http.GetAsync("/health/ready");
            var elapsed = clock.Elapsed;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            // Its own 2 s, plus room for a busy machine; the client's 5 s command timeout would be well over.
            Assert.True(elapsed < TimeSpan.FromSeconds(3.5), $"/health/ready took {elapsed.TotalSeconds:F1} s");

            await Eventually.WaitAsync(() => !state.Current.RedisAvailable, TimeSpan.FromSeconds(30), "the outage to show");
            string banner = state.Current.RedisError!;
            Assert.Equal($"Redis at {server.Endpoint} is not answering: it did not reply in time (it may be stopped, overloaded or paused)", banner);
        }
        finally
        {
            await server.ThawAsync();
        }

        await Eventually.WaitAsync(() => state.Current.RedisAvailable, TimeSpan.FromSeconds(30), "the dashboard to recover");
    }
}
