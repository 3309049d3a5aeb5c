using PiOps.Tests.Infrastructure;
using PiOps.Tests.Kubernetes;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Web;

/// <summary>What stops the start, and with which sentence: every configuration section is checked, the cluster connection too.</summary>
public sealed class StartupFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Start_RefusesAnAuditTrailOfNoEntries_WithTheSentence()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
        {
            ["Audit:MaxEntries"] = "0",
        }));

        Assert.Contains("Audit:MaxEntries must be from 1 to 1,000,000 (got 0).", ex.ToString());
    }

    [Fact]
    public async Task Start_RefusesAKubeconfigThatCannotBeUsed_WithTheSentence()
    {
        await using var api = await KubeApiDouble.StartAsync();
        string dir = Directory.CreateTempSubdirectory("piops-k8s-").FullName;
        try
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
            {
                ["Kubernetes:Mode"] = "Kubernetes",
                ["Kubernetes:KubeconfigPath"] = api.WriteKubeconfig(dir),
                ["Kubernetes:Context"] = "prod",
            }));

            Assert.Contains("has no context named \"prod\"; set Kubernetes:Context to one of: double", ex.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
