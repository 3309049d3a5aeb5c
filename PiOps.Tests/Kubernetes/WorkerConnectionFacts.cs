using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Jobs and CronJobs the dashboard creates connect to Redis as the workers Deployment's pods do: its REDIS_* entries
/// (values and valueFrom as written), the queue's rules, and the volume and mount of the TLS CA file; QUEUE_NAME is the
/// dashboard's. Without the Deployment, the options' REDIS_HOST/REDIS_PORT, and the dashboard says so.
/// </summary>
public sealed class WorkerConnectionFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static JobSpec Spec(string name) =>
        new(name, JobCommand.Worker, 1, null, false, 2, JobRestartPolicy.OnFailure, new Dictionary<string, string> { ["COMPLETE_WHEN_EMPTY"] = "1" });

    // The worker container of the chart with external Sentinels, a password Secret and a CA Secret
    // (charts/piops/templates/worker.yaml and piops.redisEnv), plus entries that are not the connection.
    private static readonly JsonArray WorkersEnv = JsonNode.Parse("""
        [
          {"name": "REDIS_SENTINELS", "value": "sentinel-0.redis:26379,sentinel-1.redis:26379"},
          {"name": "REDIS_SENTINEL_SERVICE", "value": "mymaster"},
          {"name": "REDIS_USERNAME", "value": "piops"},
          {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "password"}}},
          {"name": "REDIS_TLS", "value": "true"},
          {"name": "REDIS_TLS_CA_FILE", "value": "/etc/piops/redis-ca/ca.crt"},
          {"name": "QUEUE_NAME", "value": "the-workers-queue"},
          {"name": "MAX_ITERATIONS", "value": "1000000"},
          {"name": "MAX_ATTEMPTS", "value": "5"},
          {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
          {"name": "LIVENESS_FILE", "value": "logs/lastrun.date"}
        ]
        """)!.AsArray();

    private static readonly string[] Copied =
        ["REDIS_SENTINELS", "REDIS_SENTINEL_SERVICE", "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_TLS", "REDIS_TLS_CA_FILE", "MAX_ITERATIONS", "MAX_ATTEMPTS"];

    private static void GiveWorkersTheChartsRedis(JsonObject deployment)
    {
        var pod = deployment["spec"]!["template"]!["spec"]!.AsObject();
        var container = pod["containers"]![0]!.AsObject();
        container["env"] = WorkersEnv.DeepClone();
        container["volumeMounts"] = JsonNode.Parse("""
            [{"name": "logs", "mountPath": "/app/logs"}, {"name": "redis-ca", "mountPath": "/etc/piops/redis-ca", "readOnly": true}]
            """);
        pod["volumes"] = JsonNode.Parse("""
            [{"name": "logs", "emptyDir": {}},
             {"name": "redis-ca", "secret": {"secretName": "redis-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]
            """);
    }

    private static string Json<T>(T value) => KubernetesJson.Serialize(value);

    private static void AssertConnectsAsTheWorkers(V1PodSpec pod, string queue)
    {
        var env = pod.Containers[0].Env;
        // Compared as the client's model writes them, so the order of a JSON object's keys does not matter.
        var expected = WorkersEnv.Where(e => Copied.Contains(e!["name"]!.GetValue<string>())).Select(e => Json(KubernetesJson.Deserialize<V1EnvVar>(e!.ToJsonString())));
        Assert.Equal(expected, env.Where(e => Copied.Contains(e.Name)).Select(Json));
        Assert.Equal(queue, Assert.Single(env, e => e.Name == "QUEUE_NAME").Value);
        Assert.Equal("1", Assert.Single(env, e => e.Name == "COMPLETE_WHEN_EMPTY").Value);
        Assert.DoesNotContain(env, e => e.Name is "REDIS_HOST" or "REDIS_PORT" or "POD_NAME" or "LIVENESS_FILE");
        var mount = Assert.Single(pod.Containers[0].VolumeMounts);
        Assert.Equal(("redis-ca", "/etc/piops/redis-ca", (bool?)true), (mount.Name, mount.MountPath, mount.ReadOnlyProperty));
        var volume = Assert.Single(pod.Volumes);
        Assert.Equal("redis-ca", volume.Secret.SecretName);
        Assert.Equal(("ca.crt", "ca.crt"), (volume.Secret.Items[0].Key, volume.Secret.Items[0].Path));
    }

    [Fact]
    public async Task CreatedJobAndCronJob_ConnectAsTheWorkersDeploymentDoes()
    {
        var api = await KubeApiDouble.StartAsync();
        api.Mutate("deployments", "pi-worker", GiveWorkersTheChartsRedis);
        await using var cluster = await ClusterDashboard.StartAsync(server, api: api);
        string queue = cluster.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PiOps.Shared.Queue.QueueOptions>>().Value.QueueName;

        await cluster.Runtime.CreateJobAsync(Spec("sentinel-job"));
        await cluster.Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork with { JobTemplate = Spec("sentinel-cron"), Name = "sentinel-cron" });

        var job = KubernetesJson.Deserialize<V1Job>(api.Get("jobs", "sentinel-job")!.ToJsonString());
        AssertConnectsAsTheWorkers(job.Spec.Template.Spec, queue);
        var cron = KubernetesJson.Deserialize<V1CronJob>(api.Get("cronjobs", "sentinel-cron")!.ToJsonString());
        AssertConnectsAsTheWorkers(cron.Spec.JobTemplate.Spec.Template.Spec, queue);
        Assert.Null(cluster.Runtime.Pod.Redis.Note);

        // The previews show the same objects.
        var preview = KubernetesYaml.Deserialize<V1Job>(cluster.Runtime.JobManifest(Spec("sentinel-job")), strict: true);
        Assert.Equal(Json(job.Spec.Template.Spec.Containers[0].Env), Json(preview.Spec.Template.Spec.Containers[0].Env));
        Assert.Equal(Json(job.Spec.Template.Spec.Volumes), Json(preview.Spec.Template.Spec.Volumes));
        var cronPreview = KubernetesYaml.Deserialize<V1CronJob>(cluster.Runtime.CronJobManifest(CronJobSpec.BookAddWork with { JobTemplate = Spec("sentinel-cron"), Name = "sentinel-cron" }), strict: true);
        Assert.Equal(Json(cron.Spec.JobTemplate.Spec.Template.Spec), Json(cronPreview.Spec.JobTemplate.Spec.Template.Spec));
    }

    [Fact]
    public async Task CreatedJob_FollowsTheWorkersDeployment_WhenItChanges()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);

        cluster.Api.Mutate("deployments", "pi-worker", GiveWorkersTheChartsRedis);
        await Eventually.WaitAsync(() => cluster.Runtime.Pod.Redis.Env.Any(e => e.Name == "REDIS_SENTINELS"), Wait, "the workers' Sentinels in the pod settings");
        await cluster.Runtime.CreateJobAsync(Spec("after-change"));

        var job = KubernetesJson.Deserialize<V1Job>(cluster.Api.Get("jobs", "after-change")!.ToJsonString());
        Assert.Contains(job.Spec.Template.Spec.Containers[0].Env, e => e is { Name: "REDIS_SENTINEL_SERVICE", Value: "mymaster" });
        Assert.DoesNotContain(job.Spec.Template.Spec.Containers[0].Env, e => e.Name == "REDIS_HOST");
    }

    [Fact]
    public async Task Rerun_KeepsTheJobsOwnEnvironment()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        await cluster.Runtime.CreateJobAsync(Spec("made-before"));
        cluster.Api.Mutate("deployments", "pi-worker", GiveWorkersTheChartsRedis);
        await Eventually.WaitAsync(() => cluster.Runtime.Pod.Redis.Env.Any(e => e.Name == "REDIS_SENTINELS"), Wait, "the workers' Sentinels in the pod settings");

        await cluster.Runtime.RerunJobAsync("made-before");

        var env = KubernetesJson.Deserialize<V1Job>(cluster.Api.Get("jobs", "made-before")!.ToJsonString()).Spec.Template.Spec.Containers[0].Env;
        Assert.Contains(env, e => e is { Name: "REDIS_HOST", Value: "redis" });
        Assert.DoesNotContain(env, e => e.Name == "REDIS_SENTINELS");
    }

    [Fact]
    public async Task WithoutTheWorkersDeployment_JobsGetTheOptionsHostAndPort_AndTheDashboardSaysWhy()
    {
        var api = await KubeApiDouble.StartAsync();
        api.Delete("deployments", "pi-worker");
        var logs = new CapturingLoggerProvider();
        await using var cluster = await ClusterDashboard.StartAsync(server, api: api, services: s => s.AddSingleton<ILoggerProvider>(logs));

        await cluster.Runtime.CreateJobAsync(Spec("plain-job"));
        await cluster.Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork);

        var job = KubernetesJson.Deserialize<V1Job>(api.Get("jobs", "plain-job")!.ToJsonString());
        var cron = KubernetesJson.Deserialize<V1CronJob>(api.Get("cronjobs", CronJobSpec.BookAddWork.Name)!.ToJsonString());
        foreach (var pod in new[] { job.Spec.Template.Spec, cron.Spec.JobTemplate.Spec.Template.Spec })
        {
            Assert.Equal(["REDIS_HOST", "REDIS_PORT", "QUEUE_NAME"], pod.Containers[0].Env.Select(e => e.Name).Take(3));
            Assert.Equal(("redis", "6379"), (pod.Containers[0].Env[0].Value, pod.Containers[0].Env[1].Value));
            Assert.Null(pod.Volumes);
        }

        // The note names the Deployment it looked for and the setting; the log has a warning for each create.
        string note = Assert.IsType<string>(cluster.Runtime.Pod.Redis.Note);
        Assert.Contains("pi-worker", note);
        Assert.Contains("Kubernetes:WorkersDeployment", note);
        Assert.Equal(2, logs.Warnings(typeof(KubernetesRuntime).FullName!).Count(m => m.Contains("REDIS_HOST=redis", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task WhileTheDeploymentsCannotBeListed_ACreateAsksOnce_ThenFallsBack()
    {
        var api = await KubeApiDouble.StartAsync();
        api.Mutate("deployments", "pi-worker", GiveWorkersTheChartsRedis);
        api.Forbid("list", "deployments");
        await using var cluster = await ClusterDashboard.StartAsync(server, api: api, synced: false);
        await Eventually.WaitAsync(() => api.Requests("list deployments") > 0, Wait, "the cache's first list of Deployments");
        Assert.NotNull(cluster.Runtime.Pod.Redis.Note);

        int before = api.Requests("list deployments");
        await cluster.Runtime.CreateJobAsync(Spec("while-forbidden"));

        // The create's own list (the cache's back-off may add its own retries, never fewer than one more).
        Assert.True(api.Requests("list deployments") > before, "the create lists the workers Deployment itself");
        var env = KubernetesJson.Deserialize<V1Job>(api.Get("jobs", "while-forbidden")!.ToJsonString()).Spec.Template.Spec.Containers[0].Env;
        Assert.Equal(["REDIS_HOST", "REDIS_PORT", "QUEUE_NAME"], env.Select(e => e.Name).Take(3));
    }

    [Fact]
    public async Task BeforeTheCacheHasListed_ACreateReadsTheWorkersDeploymentItself()
    {
        var api = await KubeApiDouble.StartAsync();
        api.Mutate("deployments", "pi-worker", GiveWorkersTheChartsRedis);
        api.Forbid("list", "deployments");
        await using var cluster = await ClusterDashboard.StartAsync(server, api: api, synced: false);
        await Eventually.WaitAsync(() => api.Requests("list deployments") > 0, Wait, "the cache's first list of Deployments");

        // Allowed again: the cache is in its back-off (0.8 s at least), and the create reads the Deployment at once.
        api.Allow("list", "deployments");
        var pod = await cluster.Backend.PodToCreateAsync();

        Assert.Null(pod.Redis.Note);
        Assert.Equal(Copied, pod.Redis.Env.Select(e => e.Name));
        Assert.Equal("redis-ca", Assert.Single(pod.Redis.Volumes).Name);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

        public IEnumerable<string> Warnings(string category) =>
            _entries.Where(e => e.Category == category && e.Level == LogLevel.Warning).Select(e => e.Message);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
