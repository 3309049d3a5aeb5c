using System.Diagnostics;
using System.Net;
using System.Text;

namespace PiOps.Tests.Resilience;

/// <summary>
/// Many HTTP API clients enqueuing at once for a while, and meanwhile the time to first byte of the dashboard's pages,
/// against the same pages' time to first byte measured idle just before, in the same run. Shared by the producers test
/// (50 clients, 5 s) and the `producers` benchmark (200 clients, 30 s).
/// </summary>
public static class ProducerLoadScenario
{
    private static readonly string[] Pages = ["/", "/queue", "/workers", "/dead-letters", "/tasks"];

    public static async Task<ProducerReport> RunAsync(string baseAddress, int clients, TimeSpan duration)
    {
        using var pages = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2 })
        {
            BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(60),
        };
        using var producers = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(60),
        };

        // Warm-up: every page compiled and rendered once, the API's first request served.
        foreach (var path in Pages)
        {
            await TtfbAsync(pages, path);
        }

        await EnqueueAsync(producers);
        var idle = new List<double>();
        for (int i = 0; i < 25; i++)
        {
            idle.Add(await TtfbAsync(pages, Pages[i % Pages.Length]));
        }

        var errorSamples = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var loaders = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>();
            int errors = 0;
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                bool ok = await EnqueueAsync(producers, errorSamples);
                mine.Add(sw.Elapsed.TotalMilliseconds);
                errors += ok ? 0 : 1;
            }

            return (mine, errors);
        })).ToArray();

        // The pages, while the producers run: one request at a time, as a person clicking around would.
        var loaded = new List<double>();
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!stop.IsCancellationRequested)
        {
            loaded.Add(await TtfbAsync(pages, Pages[loaded.Count % Pages.Length]));
            await pace.WaitForNextTickAsync();
        }

        var done = await Task.WhenAll(loaders);
        var elapsed = clock.Elapsed;
        var latencies = done.SelectMany(d => d.mine).Order().ToArray();
        return new ProducerReport(clients, elapsed, latencies.Length, done.Sum(d => d.errors),
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile([.. idle.Order()], 0.5),
            Percentile([.. loaded.Order()], 0.5), loaded.Count, [.. errorSamples]);
    }

    private static async Task<bool> EnqueueAsync(HttpClient http, System.Collections.Concurrent.ConcurrentQueue<string>? errors = null)
    {
        using var content = new StringContent("""{"iterations": 1000, "count": 1}""", Encoding.UTF8, "application/json");
        try
        {
            using var response = await http.PostAsync("/api/tasks", content);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return true;
            }

            if (errors is { Count: < 5 })
            {
                errors.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            if (errors is { Count: < 5 })
            {
                errors.Enqueue(ex.GetType().Name + ": " + ex.Message);
            }
        }

        return false;
    }

    /// <summary>Milliseconds until the response's headers arrive: the server has rendered the page's first bytes.</summary>
    private static async Task<double> TtfbAsync(HttpClient http, string path)
    {
        var sw = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        double ms = sw.Elapsed.TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        await response.Content.CopyToAsync(Stream.Null);
        return ms;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
}

public sealed record ProducerReport(int Clients, TimeSpan Elapsed, int Requests, int Errors, double P50Ms, double P99Ms,
    double IdleTtfbMedianMs, double LoadedTtfbMedianMs, int PageSamples, IReadOnlyList<string> ErrorSamples)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public string Describe() =>
        $"{Clients} clients for {Elapsed.TotalSeconds:F1} s: {Requests:N0} enqueues ({RequestsPerSecond:N0}/s), {Errors} errors, " +
        $"latency p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms; pages' median time to first byte {IdleTtfbMedianMs:F1} ms idle, " +
        $"{LoadedTtfbMedianMs:F1} ms under load ({PageSamples} samples)" +
        (ErrorSamples.Count > 0 ? "; errors such as: " + string.Join(" | ", ErrorSamples) : "");
}
