using System.Text.RegularExpressions;
using PiOps.Tests.Chart;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Observability;

/// <summary>
/// The chart's Grafana dashboard and KEDA query ask only for metrics PiOps serves: a dashboard process and a worker
/// with METRICS_PORT run a few tasks and a bad entry, and every metric name in every panel's query is in one of their
/// /metrics pages.
/// </summary>
public sealed partial class GrafanaDashboardFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [GeneratedRegex(@"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")]
    private static partial Regex Selector();

    private static HashSet<string> Names(string exposition) =>
        exposition.Split('\n').Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split('{', ' ')[0]).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task EveryPanelsMetric_AndTheKedaQuerysMetric_IsServedByTheDashboardOrAWorker()
    {
        const string queue = "queue:task"; // the chart's default; this class has its Redis to itself
        await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = server.Port.ToString(),
        });
        int port = FreePort.Next();
        await using var worker = WorkerProcess.Start(WorkerProcess.Env(server, queue, ("METRICS_PORT", port.ToString())));
        await server.Db.ListRightPushAsync(queue, ["1000", "2000", "not a number"]);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        HashSet<string> workerNames = [];
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                workerNames = Names(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
            }
            catch (HttpRequestException)
            {
                return false;
            }

            return workerNames.Contains("piops_tasks_done_total") && workerNames.Contains("piops_tasks_dead_lettered_total");
        }, Bound, () => $"the worker's metrics after its tasks\n{worker.Output}");
        HashSet<string> dashboardNames = [];
        await Eventually.WaitAsync(async () =>
        {
            string text = await http.GetStringAsync(dashboard.BaseAddress + "/metrics");
            dashboardNames = Names(text);
            return text.Split('\n').Any(l => l.StartsWith("piops_tasks_done_total ", StringComparison.Ordinal) && !l.EndsWith(" 0"));
        }, Bound, "the dashboard's metrics to see the tasks done");
        var served = workerNames.Union(dashboardNames).ToHashSet(StringComparer.Ordinal);

        using var json = MonitoringChartFacts.GrafanaDashboard();
        var panels = json.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        var missing = new List<string>();
        foreach (var panel in panels)
        {
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            foreach (var target in targets)
            {
                string expr = target.GetProperty("expr").GetString()!;
                var metrics = Selector().Matches(expr).Select(m => m.Groups[1].Value).ToList();
                Assert.True(metrics.Count > 0, $"no metric found in \"{expr}\"");
                missing.AddRange(metrics.Where(m => !served.Contains(m)).Select(m => $"{panel.GetProperty("title").GetString()}: {m} in {expr}"));
            }
        }

        string query = MonitoringChartFacts.KedaPrometheusQuery();
        missing.AddRange(Selector().Matches(query).Select(m => m.Groups[1].Value).Where(m => !served.Contains(m)).Select(m => "KEDA: " + m));
        Assert.True(missing.Count == 0, "not served by PiOps:\n" + string.Join("\n", missing) + "\nserved: " + string.Join(" ", served.Order()));
    }
}
