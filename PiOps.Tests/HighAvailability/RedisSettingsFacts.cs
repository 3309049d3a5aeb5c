using Microsoft.Extensions.Configuration;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Worker.Configuration;
using Xunit;

namespace PiOps.Tests.HighAvailability;

/// <summary>Sentinel and replica-wait settings: what the workers read, and the sentences a wrong setting gets.</summary>
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
}
