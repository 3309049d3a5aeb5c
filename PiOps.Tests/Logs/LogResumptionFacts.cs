using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Kubernetes;
using PiOps.Web.Logs;
using PiOps.Web.Security;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Logs;

/// <summary>
/// A followed pod log that is cut and opened again, with the dashboard's clock and the node's apart: the stream resumes
/// from the last line's own timestamp (sinceTime), so neither clock's skew drops or repeats a line.
/// </summary>
public sealed class LogResumptionFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(-120)]
    [InlineData(120)]
    public async Task AResumedStream_NeitherDropsNorRepeatsLines_WhenTheDashboardsClockIsSkewed(int skewSeconds)
    {
        await using var cluster = await ClusterDashboard.StartAsync(server,
            services: s => s.AddSingleton<TimeProvider>(new SkewedClock(TimeSpan.FromSeconds(skewSeconds))));
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        string pod = cluster.Runtime.Current.Workers.Pods[0].Name;
        var tailer = cluster.App.Services.GetRequiredService<LogTailer>();
        using var session = new LogSession(cluster.Runtime, tailer, new LogTarget(LogTargetKind.Pod, pod), 1_000, 100);
        string Texts() => string.Join(" | ", session.Lines.Select(l => l.Text));
        cluster.Api.WriteLog(pod, "got task: 1000");
        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "got task: 1000"), Wait, Texts);
        var lastShown = session.Lines.Single(l => l.Text == "got task: 1000").At;

        // The stream is cut and the API refuses it for a while (an API server restart): the pod writes meanwhile,
        // and the dashboard's own back-off (0.2, 0.4, 0.8 s ...) makes that line older than a second when it resumes.
        int before = cluster.Api.Requests("get pods/log");
        cluster.Api.RefuseLogs(503);
        cluster.Api.EndLogStreams();
        cluster.Api.WriteLog(pod, "got task: 2000");
        await Eventually.WaitAsync(() => cluster.Api.Requests("get pods/log") >= before + 3, Wait,
            () => $"three refused tries ({cluster.Api.Requests("get pods/log") - before})");
        cluster.Api.AllowLogs();
        cluster.Api.WriteLog(pod, "got task: 3000");

        await Eventually.WaitAsync(() => session.Lines.Any(l => l.Text == "got task: 3000"), Wait, Texts);
        var texts = session.Lines.Select(l => l.Text).ToList();
        Assert.Single(texts, t => t == $"starting {pod}");
        Assert.Single(texts, t => t == "got task: 1000");
        Assert.Single(texts, t => t == "got task: 2000");
        Assert.Single(texts, t => t == "got task: 3000");
        Assert.True(texts.IndexOf("got task: 1000") < texts.IndexOf("got task: 2000") && texts.IndexOf("got task: 2000") < texts.IndexOf("got task: 3000"), Texts());
        // It asked from the last shown line's own time (to the second, as metav1.Time travels), not from its clock.
        Assert.Contains(lastShown.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), cluster.Api.LogSinceTimes);
    }

    [Fact]
    public async Task AResumedStream_IsTheDashboardsRead_LikeTheFirst_WithImpersonationOn()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Auth:AdminPassword"] = "admin-password-1",
            ["Auth:Impersonate"] = "true",
        });
        cluster.Api.UseRbac(ImpersonationFacts.ChartRbac.Value, "ops");
        await Eventually.WaitAsync(() => cluster.Runtime.Current.Workers.Pods.Count == 2, Wait, "the two worker pods");
        string pod = cluster.Runtime.Current.Workers.Pods[0].Name;
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var cts = new CancellationTokenSource(Wait * 2);
        var following = Task.Run(async () =>
        {
            try
            {
                await foreach (var line in cluster.Backend.FollowAsync(new PodAddress(null, pod), 10, cts.Token))
                {
                    seen.Enqueue(line.Text);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        cluster.Api.WriteLog(pod, "got task: 1000");
        await Eventually.WaitAsync(() => seen.Contains("got task: 1000"), Wait, () => string.Join(" | ", seen));
        cluster.Api.EndLogStreams();
        cluster.Api.WriteLog(pod, "got task: 2000");
        await Eventually.WaitAsync(() => seen.Contains("got task: 2000"), Wait, () => string.Join(" | ", seen));
        await cts.CancelAsync();
        await following.WaitAsync(Wait);

        Assert.NotEmpty(cluster.Api.LogSinceTimes);
        // A stream is shared by every viewer of the pod (LogTailer), so it is the dashboard's read, never a user's.
        Assert.DoesNotContain(cluster.Api.Impersonations, i => i.StartsWith("get pods/log", StringComparison.Ordinal));
    }

    private sealed class SkewedClock(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
