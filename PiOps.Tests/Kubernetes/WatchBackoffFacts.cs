using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// A watch refused while its list works (a watch-only 403, 429 from API priority and fairness, a 5xx) is an outage
/// like a failing list: shown in the banner, and retried with client-go's reflector back-off, not in a loop.
/// </summary>
public sealed class WatchBackoffFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private ClusterDashboard _cluster = default!;

    private KubeApiDouble Api => _cluster.Api;

    public async Task InitializeAsync() => _cluster = await ClusterDashboard.StartAsync(server);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static int Sum(IReadOnlyDictionary<string, int> counts, string verb) =>
        counts.Where(kv => kv.Key.StartsWith(verb + " ", StringComparison.Ordinal)).Sum(kv => kv.Value);

    [Theory]
    [InlineData(403, null)]
    [InlineData(429, 5)]
    [InlineData(500, null)]
    public async Task FailingWatch_WhileListWorks_BacksOff_AndShowsInTheBanner(int code, int? retryAfter)
    {
        int opened = Sum(Api.RequestCounts, "watch");
        Api.FailWatches(code, retryAfter);
        Api.CloseWatches();
        await Eventually.WaitAsync(() => Sum(Api.RequestCounts, "watch") >= opened + 6, Wait, "every kind to ask for a watch again");

        // Measured over a window: the rate of requests is what is bounded. Six kinds are watched (KEDA is absent).
        var before = Api.RequestCounts;
        await Task.Delay(Window);
        var after = Api.RequestCounts;
        int lists = Sum(after, "list") - Sum(before, "list");
        int watches = Sum(after, "watch") - Sum(before, "watch");

        // client-go's reflector: 0.8 s, then 1.6 s, 3.2 s ... each with up to as much again of jitter: at most three
        // tries per kind in 3 s (with Retry-After 5, at most one). Without back-off this was over a thousand.
        int most = 6 * (retryAfter is null ? 3 : 1);
        Assert.True(lists <= most && watches <= most, $"{lists} lists and {watches} watches in {Window.TotalSeconds:F0} s (at most {most} each)");
        await Eventually.WaitAsync(() => _cluster.Cache.State.Error?.Contains("watch", StringComparison.Ordinal) == true, Wait,
            () => $"the banner to report the failing watches ({_cluster.Cache.State})");

        Api.StopFailingWatches();
        await Eventually.WaitAsync(() => _cluster.Cache.State.Error is null, Wait, () => $"the banner to clear once watches work again ({_cluster.Cache.State})");
    }
}
