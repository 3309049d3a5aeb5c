using PiOps.Tests.Infrastructure;
using PiOps.Web.Security;

namespace PiOps.Tests.Security;

/// <summary>The dashboard in this process with sign-in on: a Viewer, an Operator and the admin password.</summary>
public static class SignedInApp
{
    public const string Password = "s3cret-enough";
    public const string AdminPassword = "admin-password-1";

    private static readonly string Hash = PasswordHashes.Hash(Password);

    public static Task<DashboardApp> StartAsync(TestRedisServer server, string queue, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:AdminPassword"] = AdminPassword,
            ["Auth:Users:0:Name"] = "vera",
            ["Auth:Users:0:Role"] = "Viewer",
            ["Auth:Users:0:PasswordHash"] = Hash,
            ["Auth:Users:1:Name"] = "otto",
            ["Auth:Users:1:Role"] = "Operator",
            ["Auth:Users:1:PasswordHash"] = Hash,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        return DashboardApp.StartAsync(server, queue, settings);
    }
}
