using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Web.Queue;
using PiOps.Worker.Configuration;
using Xunit;

namespace PiOps.Tests.HighAvailability;

/// <summary>Sentinel, cluster, TLS and replica-wait settings: what the workers read, and the sentences a wrong setting gets.</summary>
public sealed class RedisSettingsFacts
{
    private static IReadOnlyList<string> WorkerErrors(params (string Key, string Value)[] env)
    {
        var c = new ConfigurationBuilder().AddInMemoryCollection(env.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value))).Build();
        var o = new WorkerOptions();
        WorkerOptions.Bind(o, c);
        var result = new WorkerOptionsValidator().Validate(null, o);
        return result.Failed ? result.Failures.ToList() : [];
    }

    [Fact]
    public void Sentinels_WithServiceName_ConnectThroughSentinel()
    {
        var s = new RedisSettings { Sentinels = "s0:26380, s1, [::1]:26381", SentinelService = "mymaster" };
        Assert.Empty(s.Validate());
        var options = s.ToConfigurationOptions("test");
        Assert.Equal("mymaster", options.ServiceName);
        Assert.Equal(3, options.EndPoints.Count);
        Assert.Equal("Sentinel service mymaster via s0:26380,s1:26379,[::1]:26381", s.Describe());
    }

    [Fact]
    public void Worker_ReadsSentinelAndWaitVariables()
    {
        Assert.Empty(WorkerErrors(("REDIS_SENTINELS", "a:1,b:2"), ("REDIS_SENTINEL_SERVICE", "piops"),
            ("REDIS_WAIT_REPLICAS", "1"), ("REDIS_WAIT_TIMEOUT_MS", "500")));
    }

    [Fact]
    public void Worker_ReportsEverySentinelMistakeAtOnce()
    {
        var errors = WorkerErrors(("REDIS_HOST", "redis"), ("REDIS_SENTINELS", "a:1,b:x,:3"),
            ("REDIS_WAIT_REPLICAS", "-1"), ("REDIS_WAIT_TIMEOUT_MS", "9000"));
        Assert.Contains(errors, e => e.StartsWith("Redis is configured twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("REDIS_SENTINELS is set but REDIS_SENTINEL_SERVICE is not", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("not valid: \"b:x\", \":3\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("REDIS_WAIT_REPLICAS) must be from 0 to 100 (got -1)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("must be from 10 to 4000 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void ServiceName_WithoutSentinels_IsRefused()
    {
        Assert.Contains(new RedisSettings { SentinelService = "mymaster" }.Validate(),
            e => e.StartsWith("REDIS_SENTINEL_SERVICE is set but REDIS_SENTINELS is not", StringComparison.Ordinal));
    }

    [Fact]
    public void WaitReplicas_DefaultsToNone()
    {
        Assert.Equal(0, new QueueOptions().WaitReplicas);
    }

    /// <summary>The dashboard's RedisSettings as its options pipeline makes them from the same variables.</summary>
    private static RedisSettings DashboardSettings(params (string Key, string Value)[] env)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(env.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)));
        builder.AddQueue();
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<RedisSettings>>().Value;
    }

    [Fact]
    public void Host_AsTheBookGivesIt_IsOneEndpointOnRedisPort()
    {
        Assert.Equal("redis:6380", new RedisSettings { Host = "redis", Port = 6380 }.Describe());
        // A bare IPv6 address is one host, as before.
        var v6 = new RedisSettings { Host = "::1" }.ToConfigurationOptions("test");
        Assert.Equal("[::1]:6379", Assert.Single(v6.EndPoints).ToString());
    }

    [Fact]
    public void Host_WithSeveralAddresses_GivesEachAsAClusterSeed()
    {
        var s = new RedisSettings { Host = "node-0:7000, node-1,[::1]:7002", Port = 6380 };

        Assert.Empty(s.Validate());
        Assert.Equal("node-0:7000,node-1:6380,[::1]:7002", s.Describe());
    }

    [Fact]
    public void Host_WithABadAddressInTheList_IsRefusedByName()
    {
        var errors = WorkerErrors(("REDIS_HOST", "node-0:7000,node-1:x,node-2:70000"));

        Assert.Contains(errors, e => e.StartsWith("REDIS_HOST must be one host, or several host:port addresses", StringComparison.Ordinal)
                                     && e.Contains("not valid: \"node-1:x\", \"node-2:70000\".", StringComparison.Ordinal));
    }

    [Fact]
    public void Tls_UserAndCaFile_AreReadByTheWorkerAndTheDashboard()
    {
        string ca = WriteCaFile();
        try
        {
            (string, string)[] env = [("REDIS_HOST", "redis.example"), ("REDIS_TLS", "true"), ("REDIS_TLS_CA_FILE", ca), ("REDIS_USERNAME", "piops")];
            Assert.Empty(WorkerErrors(env));
            var c = new ConfigurationBuilder().AddInMemoryCollection(env.Select(e => new KeyValuePair<string, string?>(e.Item1, e.Item2))).Build();
            var worker = new WorkerOptions();
            WorkerOptions.Bind(worker, c);
            foreach (var s in new[] { worker.Redis, DashboardSettings(env) })
            {
                var options = s.ToConfigurationOptions("test");
                Assert.True(options.Ssl);
                Assert.Equal("piops", options.User);
                Assert.Equal(ca, s.TlsCaFile);
            }
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public void CaFile_AloneTurnsTlsOn()
    {
        string ca = WriteCaFile();
        try
        {
            Assert.True(new RedisSettings { Host = "redis", TlsCaFile = ca }.ToConfigurationOptions("test").Ssl);
            Assert.False(new RedisSettings { Host = "redis" }.ToConfigurationOptions("test").Ssl);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public void CaFile_ThatDoesNotExist_StopsTheWorkerAndTheDashboardWithItsPath()
    {
        (string, string)[] env = [("REDIS_HOST", "redis"), ("REDIS_TLS", "true"), ("REDIS_TLS_CA_FILE", "/nonexistent/redis-ca.crt")];

        const string sentence = "REDIS_TLS_CA_FILE /nonexistent/redis-ca.crt does not exist: mount the CA certificate there";
        Assert.Contains(WorkerErrors(env), e => e.StartsWith(sentence, StringComparison.Ordinal));
        var refused = Assert.Throws<OptionsValidationException>(() => DashboardSettings(env));
        Assert.Contains(refused.Failures, e => e.StartsWith(sentence, StringComparison.Ordinal));
    }

    [Fact]
    public void CaFile_WithNoCertificate_IsRefused()
    {
        string notPem = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notPem, "not a certificate\n");
            Assert.Contains(new RedisSettings { Host = "redis", TlsCaFile = notPem }.Validate(),
                e => e == $"REDIS_TLS_CA_FILE {notPem} holds no certificate (no -----BEGIN CERTIFICATE----- block).");
        }
        finally
        {
            File.Delete(notPem);
        }
    }

    [Fact]
    public void Tls_ThatIsNotABoolean_IsRefused()
    {
        Assert.Contains(WorkerErrors(("REDIS_HOST", "redis"), ("REDIS_TLS", "maybe")), e => e == "REDIS_TLS must be true or false (got \"maybe\").");
        Assert.Empty(WorkerErrors(("REDIS_HOST", "redis"), ("REDIS_TLS", "false")));
    }

    private static string WriteCaFile()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=piops test CA", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        string path = Path.GetTempFileName();
        File.WriteAllText(path, cert.ExportCertificatePem());
        return path;
    }
}
