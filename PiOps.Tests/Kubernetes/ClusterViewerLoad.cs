using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.E2E;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Opens the workload pages of a dashboard connected to the Kubernetes API double and counts the API requests they
/// cause: pages render from the shared watch cache, so opening more of them must not add requests. Shared by the
/// cluster viewers test and the viewers benchmark.
/// </summary>
public sealed class ClusterViewerLoad(BrowserFixture browser, ClusterDashboard cluster)
{
    private static readonly string[] Paths = ["/", "/workers", "/jobs", "/cronjobs", "/autoscaling"];
    private readonly List<IPage> _pages = [];

    public int Pages => _pages.Count;

    /// <summary>Opens pages until <paramref name="count"/> are open; returns the API requests made meanwhile.</summary>
    public async Task<ApiRequests> OpenUntilAsync(int count)
    {
        var before = cluster.Api.RequestCounts;
        while (_pages.Count < count)
        {
            var page = await browser.NewPageAsync();
            await LivePage.GoAsync(page, cluster.App.BaseAddress + Paths[_pages.Count % Paths.Length]);
            _pages.Add(page);
        }

        return ApiRequests.Between(before, cluster.Api.RequestCounts, _pages.Count, TimeSpan.Zero);
    }

    /// <summary>The API requests the dashboard made over <paramref name="window"/> with the pages open.</summary>
    public async Task<ApiRequests> MeasureAsync(TimeSpan window)
    {
        var before = cluster.Api.RequestCounts;
        var start = DateTime.UtcNow;
        await Task.Delay(window);
        return ApiRequests.Between(before, cluster.Api.RequestCounts, _pages.Count, DateTime.UtcNow - start);
    }
}

/// <param name="ByKind">Requests per "verb resource", most frequent first, e.g. "watch pods 2".</param>
public sealed record ApiRequests(int Pages, int Total, TimeSpan Window, string ByKind)
{
    public double PerMinute => Window > TimeSpan.Zero ? Total / Window.TotalMinutes : 0;

    public static ApiRequests Between(IReadOnlyDictionary<string, int> before, IReadOnlyDictionary<string, int> after,
        int pages, TimeSpan window)
    {
        var grown = after
            .Select(kv => (kv.Key, Calls: kv.Value - before.GetValueOrDefault(kv.Key)))
            .Where(c => c.Calls > 0)
            .OrderByDescending(c => c.Calls)
            .ToList();
        return new ApiRequests(pages, grown.Sum(c => c.Calls), window, string.Join(", ", grown.Select(c => $"{c.Key} {c.Calls}")));
    }

    public string Describe() => Window > TimeSpan.Zero
        ? $"{Pages} page(s): {Total} API request(s) in {Window.TotalSeconds:F0} s{(Total > 0 ? $" ({ByKind})" : "")}"
        : $"opening up to {Pages} page(s): {Total} API request(s){(Total > 0 ? $" ({ByKind})" : "")}";
}
