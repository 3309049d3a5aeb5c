using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Redis;
using PiOps.Web.Security;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

public sealed class SignInServiceFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly IPAddress From = IPAddress.Parse("192.0.2.7");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    private SignInService Service(int perMinute = 100, IConnectionMultiplexer? redis = null) => new(Options.Create(new AuthOptions
    {
        AdminPassword = "admin-password-1",
        Users = [new UserAccount { Name = "otto", Role = "Operator", PasswordHash = PasswordHashes.Hash("s3cret-enough") }],
        MaxFailedSignIns = 3,
        LockoutDuration = TimeSpan.FromMinutes(5),
        SignInAttemptsPerMinute = perMinute,
    }), Counters(redis ?? server.Client), _clock, NullLogger<SignInService>.Instance);

    private readonly string _queue = TestRedisServer.NewQueueName();

    private SignInCounters Counters(IConnectionMultiplexer redis) => new(() => redis.GetDatabase(), new DashboardKeys(_queue));

    /// <summary>A second replica's own connection to the same Redis.</summary>
    private async Task<ConnectionMultiplexer> SecondConnectionAsync() => await ConnectionMultiplexer.ConnectAsync(server.Endpoint);

    [Fact]
    public async Task RightPasswords_SignIn_WithTheirRoles()
    {
        var service = Service();

        var otto = await service.SignInAsync("OTTO", "s3cret-enough", From);
        var admin = await service.SignInAsync("admin", "admin-password-1", From);

        Assert.True(otto.User!.IsInRole(Roles.Operator));
        Assert.Equal("otto", otto.User.Identity!.Name);
        Assert.True(admin.User!.IsInRole(Roles.Admin));
    }

    [Theory]
    [InlineData("otto", "wrong")]
    [InlineData("nobody", "s3cret-enough")]
    [InlineData("admin", "")]
    [InlineData("", "")]
    public async Task WrongCredentials_GetOneSentence_ThatDoesNotSayWhichPartWasWrong(string user, string password)
    {
        var service = Service();

        var outcome = await service.SignInAsync(user, password, From);

        Assert.Null(outcome.User);
        Assert.Equal("The user name or password is wrong.", outcome.Error);
    }

    [Fact]
    public async Task RepeatedFailures_LockTheUserOut_UntilTheLockoutEnds()
    {
        var service = Service();
        for (int i = 0; i < 3; i++)
        {
            await service.SignInAsync("otto", "wrong", From);
        }

        var locked = await service.SignInAsync("otto", "s3cret-enough", From);
        Assert.Null(locked.User);
        Assert.Contains("locked after 3 failed sign-ins", locked.Error);
        Assert.NotNull((await service.SignInAsync("admin", "admin-password-1", From)).User);

        _clock.Advance(TimeSpan.FromMinutes(5.1));
        Assert.NotNull((await service.SignInAsync("otto", "s3cret-enough", From)).User);
    }

    [Fact]
    public async Task TooManyAttemptsFromOneAddress_AreRefused_OthersAreNot()
    {
        var service = Service(perMinute: 4);
        for (int i = 0; i < 4; i++)
        {
            await service.SignInAsync("nobody" + i, "x", From);
        }

        var limited = await service.SignInAsync("admin", "admin-password-1", From);

        Assert.Null(limited.User);
        Assert.Contains("Too many sign-in attempts", limited.Error);
        Assert.NotNull((await service.SignInAsync("admin", "admin-password-1", IPAddress.Parse("192.0.2.8"))).User);
    }

    [Fact]
    public async Task FailuresOnTwoReplicas_AddUpToTheLockout()
    {
        await using var second = await SecondConnectionAsync();
        var one = Service();
        var other = Service(redis: second);

        await one.SignInAsync("otto", "wrong", From);
        await other.SignInAsync("OTTO", "wrong", From);
        await one.SignInAsync("otto", "wrong", From);

        Assert.Contains("locked after 3 failed sign-ins", (await other.SignInAsync("otto", "s3cret-enough", From)).Error);
        Assert.Contains("locked after 3 failed sign-ins", (await one.SignInAsync("otto", "s3cret-enough", From)).Error);
        _clock.Advance(TimeSpan.FromMinutes(5.1));
        Assert.NotNull((await other.SignInAsync("otto", "s3cret-enough", From)).User);
    }

    [Fact]
    public async Task AttemptsFromOneAddress_AreCountedAcrossReplicas_ForAMinute()
    {
        await using var second = await SecondConnectionAsync();
        var one = Service(perMinute: 4);
        var other = Service(perMinute: 4, redis: second);
        for (int i = 0; i < 4; i++)
        {
            await (i % 2 == 0 ? one : other).SignInAsync("nobody" + i, "x", From);
        }

        Assert.Contains("Too many sign-in attempts", (await one.SignInAsync("admin", "admin-password-1", From)).Error);
        Assert.Contains("Too many sign-in attempts", (await other.SignInAsync("admin", "admin-password-1", From)).Error);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull((await other.SignInAsync("admin", "admin-password-1", From)).User);
    }

    [Fact]
    public async Task ACheckWhoseOutcomeNeverArrived_CountsAsAFailure_AfterAMinute()
    {
        var service = Service();
        // A replica took a place for a check, then died before it said how the check went.
        Assert.Equal(SignInCounters.Verdict.Go,
            (await Counters(server.Client).BeginAsync("otto", "dead-replica", 3, TimeSpan.FromMinutes(5), _clock.GetUtcNow())).Verdict);
        _clock.Advance(SignInCounters.StaleCheck);

        await service.SignInAsync("otto", "wrong", From);
        await service.SignInAsync("otto", "wrong", From);

        Assert.Contains("locked after 3 failed sign-ins", (await service.SignInAsync("otto", "s3cret-enough", From)).Error);
    }

    [Fact]
    public async Task WithoutRedis_NobodySignsIn_AndTheSentenceSaysWhy()
    {
        var options = ConfigurationOptions.Parse($"127.0.0.1:{FreePort.Next()}");
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 1000;
        await using var nowhere = await ConnectionMultiplexer.ConnectAsync(options);
        var service = Service(redis: nowhere);

        var outcome = await service.SignInAsync("admin", "admin-password-1", From);

        Assert.Null(outcome.User);
        Assert.Equal(SignInService.Unavailable, outcome.Error);
    }

    [Fact]
    public void Options_WithBadUsersOrRoles_ListEveryProblem()
    {
        var problems = new AuthOptions
        {
            AdminPassword = "short",
            Users = [new UserAccount { Name = "a", Role = "Boss", PasswordHash = "plain-text" }, new UserAccount { Name = "A", Role = "Viewer", PasswordHash = PasswordHashes.Hash("long enough") }],
            Oidc = new OidcSettings { Authority = "not a url", Roles = { ["ops"] = "Root" } },
            KnownProxies = ["proxy.local"],
        }.Validate().ToList();

        Assert.Contains(problems, p => p.Contains("Role \"Boss\""));
        Assert.Contains(problems, p => p.Contains("hash-password"));
        Assert.Contains(problems, p => p.Contains("more than once"));
        Assert.Contains(problems, p => p.Contains("at least 8 characters"));
        Assert.Contains(problems, p => p.Contains("not an absolute URL"));
        Assert.Contains(problems, p => p.Contains("ClientId"));
        Assert.Contains(problems, p => p.Contains("maps to \"Root\""));
        Assert.Contains(problems, p => p.Contains("not an IP address"));
    }

    [Fact]
    public void HashPasswordCommand_PrintsAHashThatVerifies()
    {
        // Its own streams, not the process's Console: tests running beside this one write to that.
        var output = new StringWriter();
        Assert.Equal(0, PasswordHashes.HashPassword(new StringReader("correct horse battery\n"), output, new StringWriter()));

        string hash = output.ToString().Trim();
        Assert.True(PasswordHashes.LooksValid(hash));
        Assert.True(PasswordHashes.Verify(hash, "correct horse battery"));
        Assert.False(PasswordHashes.Verify(hash, "correct horse"));
        Assert.Null(PasswordHashes.RunCommand(["serve"]));
        var tooShort = new StringWriter();
        Assert.Equal(1, PasswordHashes.HashPassword(new StringReader("short\n"), new StringWriter(), tooShort));
        Assert.Contains("at least 8 characters", tooShort.ToString());
    }

    [Fact]
    public void OidcRoles_TheHighestMappedRoleWins_ElseTheDefault()
    {
        var settings = new OidcSettings { RoleClaim = "groups", Roles = { ["ops"] = "Operator", ["sre"] = "Admin" }, DefaultRole = "Viewer" };
        System.Security.Claims.ClaimsPrincipal User(params string[] groups) =>
            new(new System.Security.Claims.ClaimsIdentity(groups.Select(g => new System.Security.Claims.Claim("groups", g)), "oidc"));

        Assert.Equal("Admin", OidcRoles.Map(User("ops", "sre"), settings));
        Assert.Equal("Operator", OidcRoles.Map(User("ops", "other"), settings));
        Assert.Equal("Viewer", OidcRoles.Map(User("other"), settings));
        Assert.Null(OidcRoles.Map(User("other"), new OidcSettings { Roles = { ["ops"] = "Operator" }, DefaultRole = "" }));
    }
}
