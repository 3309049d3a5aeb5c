using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PiOps.Web.Security;
using Xunit;

namespace PiOps.Tests.Security;

public sealed class SignInServiceFacts
{
    private static readonly IPAddress From = IPAddress.Parse("192.0.2.7");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    private SignInService Service(int perMinute = 100) => new(Options.Create(new AuthOptions
    {
        AdminPassword = "admin-password-1",
        Users = [new UserAccount { Name = "otto", Role = "Operator", PasswordHash = PasswordHashes.Hash("s3cret-enough") }],
        MaxFailedSignIns = 3,
        LockoutDuration = TimeSpan.FromMinutes(5),
        SignInAttemptsPerMinute = perMinute,
    }), _clock, NullLogger<SignInService>.Instance);

    [Fact]
    public void RightPasswords_SignIn_WithTheirRoles()
    {
        using var service = Service();

        var otto = service.SignIn("OTTO", "s3cret-enough", From);
        var admin = service.SignIn("admin", "admin-password-1", From);

        Assert.True(otto.User!.IsInRole(Roles.Operator));
        Assert.Equal("otto", otto.User.Identity!.Name);
        Assert.True(admin.User!.IsInRole(Roles.Admin));
    }

    [Theory]
    [InlineData("otto", "wrong")]
    [InlineData("nobody", "s3cret-enough")]
    [InlineData("admin", "")]
    [InlineData("", "")]
    public void WrongCredentials_GetOneSentence_ThatDoesNotSayWhichPartWasWrong(string user, string password)
    {
        using var service = Service();

        var outcome = service.SignIn(user, password, From);

        Assert.Null(outcome.User);
        Assert.Equal("The user name or password is wrong.", outcome.Error);
    }

    [Fact]
    public void RepeatedFailures_LockTheUserOut_UntilTheLockoutEnds()
    {
        using var service = Service();
        for (int i = 0; i < 3; i++)
        {
            service.SignIn("otto", "wrong", From);
        }

        var locked = service.SignIn("otto", "s3cret-enough", From);
        Assert.Null(locked.User);
        Assert.Contains("locked after 3 failed sign-ins", locked.Error);
        Assert.NotNull(service.SignIn("admin", "admin-password-1", From).User);

        _clock.Advance(TimeSpan.FromMinutes(5.1));
        Assert.NotNull(service.SignIn("otto", "s3cret-enough", From).User);
    }

    [Fact]
    public void TooManyAttemptsFromOneAddress_AreRefused_OthersAreNot()
    {
        using var service = Service(perMinute: 4);
        for (int i = 0; i < 4; i++)
        {
            service.SignIn("nobody" + i, "x", From);
        }

        var limited = service.SignIn("admin", "admin-password-1", From);

        Assert.Null(limited.User);
        Assert.Contains("Too many sign-in attempts", limited.Error);
        Assert.NotNull(service.SignIn("admin", "admin-password-1", IPAddress.Parse("192.0.2.8")).User);
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
