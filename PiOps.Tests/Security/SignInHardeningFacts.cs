using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Audit;
using PiOps.Web.Redis;
using PiOps.Web.Security;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>What a guesser can learn or do at the sign-in, and what a spreadsheet runs from the audit's CSV.</summary>
public sealed class SignInHardeningFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private SignInService Service(int maxFailed, IConnectionMultiplexer? redis = null) => new(Options.Create(new AuthOptions
    {
        AdminPassword = "admin-password-1",
        Users = [new UserAccount { Name = "otto", Role = "Operator", PasswordHash = PasswordHashes.Hash("s3cret-enough") }],
        MaxFailedSignIns = maxFailed,
        SignInAttemptsPerMinute = 10_000,
    }), new SignInCounters(() => (redis ?? server.Client).GetDatabase(), new DashboardKeys(_queue)), TimeProvider.System, NullLogger<SignInService>.Instance);

    [Fact]
    public async Task ConcurrentGuesses_OnTwoReplicas_CheckNoMorePasswords_ThanTheLockoutAllows()
    {
        await using var second = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        SignInService[] replicas = [Service(maxFailed: 5), Service(maxFailed: 5, redis: second)];
        var outcomes = new SignInService.Outcome[30];
        using var start = new Barrier(outcomes.Length);
        var threads = Enumerable.Range(0, outcomes.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            outcomes[i] = replicas[i % 2].SignInAsync("otto", "guess " + i, IPAddress.Parse("192.0.2.7")).GetAwaiter().GetResult();
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a sign-in did not return within 60 s"));

        // Only a checked password is answered "wrong"; the others are refused unchecked.
        int checkedPasswords = outcomes.Count(o => o.Error == "The user name or password is wrong.");
        Assert.InRange(checkedPasswords, 1, 5);
        Assert.All(outcomes, o => Assert.Null(o.User));
        Assert.Contains("locked after 5 failed sign-ins", (await replicas[0].SignInAsync("otto", "s3cret-enough", IPAddress.Parse("192.0.2.7"))).Error);
    }

    [Fact]
    public async Task AWrongPasswordForAdmin_TakesAsLongAsForAnyOtherName()
    {
        var service = Service(maxFailed: 100);
        await service.SignInAsync("warm-up", "x", IPAddress.Loopback);
        var admin = new List<double>();
        var other = new List<double>();
        // Interleaved, so a busy moment of the machine weighs on both; medians, so one slow sample does not decide.
        for (int i = 0; i < 15; i++)
        {
            admin.Add(await TimeAsync(() => service.SignInAsync("admin", "wrong " + i, IPAddress.Loopback)));
            other.Add(await TimeAsync(() => service.SignInAsync("someone" + i, "wrong " + i, IPAddress.Loopback)));
        }

        double adminMedian = admin.Order().ElementAt(admin.Count / 2);
        double otherMedian = other.Order().ElementAt(other.Count / 2);
        Assert.True(adminMedian >= otherMedian * 0.5,
            $"a wrong admin password took {adminMedian:F1} ms (median), another name {otherMedian:F1} ms: timing tells that the admin password is set");
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalMilliseconds;
    }

    [Theory]
    [InlineData("=1+2")]
    [InlineData("\t=HYPERLINK(\"http://evil.example\")")]
    [InlineData("  =cmd|' /C calc'!A0")]
    [InlineData("\r\n@SUM(A1)")]
    [InlineData("\u0007+1")]
    [InlineData("\t-2")]
    public void Csv_NeutralisesFormulas_AlsoAfterLeadingWhitespaceOrControlCharacters(string value)
    {
        var entry = new AuditEntry(DateTimeOffset.UnixEpoch, value, "Admin", "127.0.0.1", "api", "enqueue", "queue:task", "", true, null);

        string csv = AuditFilter.ToCsv([entry]);

        string field = csv.Split("\r\n", 2)[1][(DateTimeOffset.UnixEpoch.ToString("O").Length + 1)..];
        Assert.StartsWith(field.StartsWith('"') ? "\"'" : "'", field);
    }

    [Fact]
    public void Csv_LeavesPlainValuesAsTheyAre()
    {
        var entry = new AuditEntry(DateTimeOffset.UnixEpoch, "otto", "Operator", "127.0.0.1", "api", "enqueue", "queue:task", "3 task(s)", true, null);

        Assert.EndsWith(",otto,Operator,127.0.0.1,api,enqueue,queue:task,3 task(s),succeeded,\r\n", AuditFilter.ToCsv([entry]));
    }
}
