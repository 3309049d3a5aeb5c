using System.Net;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Redis;
using PiOps.Web.Security;
using Xunit;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Security;

/// <summary>The sign-in counts' scripts on the embedded Garnet, the dashboard's default Redis.</summary>
public sealed class SignInCountersGarnetFacts(GarnetServer server) : IClassFixture<GarnetServer>
{
    private readonly SignInCounters _counters = new(() => server.Db, new DashboardKeys(TestRedisServer.NewQueueName()));
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lockout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Failures_LockTheName_AStaleCheckCounts_AndTheAddressLimitHolds()
    {
        Assert.Equal(SignInCounters.Verdict.Go, (await _counters.BeginAsync("otto", "stale", 3, Lockout, Now)).Verdict);
        var later = Now + SignInCounters.StaleCheck;
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(SignInCounters.Verdict.Go, (await _counters.BeginAsync("OTTO", $"c{i}", 3, Lockout, later)).Verdict);
            var locked = await _counters.EndAsync("otto", $"c{i}", false, 3, Lockout, later);
            Assert.Equal(i == 1 ? later + Lockout : null, locked);
        }

        Assert.Equal((SignInCounters.Verdict.Locked, later + Lockout), await _counters.BeginAsync("otto", "c2", 3, Lockout, later));
        Assert.Equal(SignInCounters.Verdict.Go, (await _counters.BeginAsync("otto", "c3", 3, Lockout, later + Lockout)).Verdict);

        var address = IPAddress.Parse("192.0.2.9");
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await _counters.TryAttemptAsync(address, 2, Now));
        }

        Assert.False(await _counters.TryAttemptAsync(address, 2, Now.AddSeconds(59)));
        Assert.True(await _counters.TryAttemptAsync(address, 2, Now.AddMinutes(1)));
    }
}
