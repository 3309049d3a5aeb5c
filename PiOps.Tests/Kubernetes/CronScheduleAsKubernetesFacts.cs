using PiOps.Web;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Kubernetes;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Schedules as Kubernetes' parser (robfig/cron) takes them: the double refuses what the API server refuses, in its
/// words, and the dashboard refuses the same schedules with a sentence before it sends anything.
/// </summary>
public sealed class CronScheduleAsKubernetesFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private ClusterDashboard _cluster = default!;
    private Kubectl _kubectl = default!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterDashboard.StartAsync(server);
        _kubectl = new Kubectl(_cluster.Api);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _cluster.DisposeAsync();
    }

    [Theory]
    [InlineData("0 0 * * 7", "end of range (7) above maximum (6): 7", "has 7 in the day-of-week field, which takes 0-6")]
    [InlineData("60 * * * *", "end of range (60) above maximum (59): 60", "has 60 in the minute field, which takes 0-59")]
    [InlineData("0 0 0 * *", "beginning of range (0) below minimum (1): 0", "has 0 in the day-of-month field, which takes 1-31")]
    [InlineData("0 0 * 1-13 *", "end of range (13) above maximum (12): 1-13", "has 13 in the month field, which takes 1-12")]
    [InlineData("*/0 * * * *", "step of range should be a positive number: */0", "a step must be 1 or more")]
    public async Task ScheduleKubernetesRefuses_IsRefusedByTheDashboard_BeforeItIsSent(string schedule, string apiServer, string dashboard)
    {
        string manifest = Path.Combine(Path.GetTempPath(), $"piops-cron-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: by-kubectl
            spec:
              schedule: "{{schedule}}"
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: pi-container
                        image: piops-worker:0.1.0
            """);
        try
        {
            var byKubectl = await _kubectl.TryRunAsync("create", "-f", manifest, "--validate=false");
            var ours = await Assert.ThrowsAsync<OperatorActionException>(() =>
                _cluster.Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork with { Schedule = schedule }));

            Assert.NotEqual(0, byKubectl.ExitCode);
            Assert.Contains($"spec.schedule: Invalid value: \"{schedule}\": {apiServer}", byKubectl.Err);
            Assert.Contains(dashboard, ours.Message);
            Assert.Equal(1, _cluster.Api.Requests("create cronjobs"));
        }
        finally
        {
            File.Delete(manifest);
        }
    }

    [Theory]
    [InlineData("0 0 * * 0-6")]
    [InlineData("0 0 * * SUN")]
    [InlineData("*/15 9-17 1,15 JAN-DEC MON-FRI")]
    [InlineData("@weekly")]
    public async Task ScheduleKubernetesTakes_IsCreated(string schedule)
    {
        await _cluster.Runtime.CreateCronJobAsync(CronJobSpec.BookAddWork with { Schedule = schedule });

        Assert.Equal(schedule, _cluster.Api.Get("cronjobs", "addwork")!["spec"]!["schedule"]!.GetValue<string>());
    }
}
