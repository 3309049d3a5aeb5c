using System.Globalization;
using Microsoft.Playwright;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Tests.E2E;

/// <summary>
/// Opens dashboard pages in one browser and measures what they cost: Redis commands per second (INFO stats of a
/// real redis-server), server memory and CPU. Shared by the viewers test and the viewers benchmark.
/// </summary>
public sealed class ViewerLoad(BrowserFixture browser, DashboardProcess dashboard, TestRedisServer redis)
{
    private static readonly string[] Paths = ["/", "/queue", "/workers", "/dead-letters", "/tasks"];
    private readonly List<IPage> _pages = [];

    public int Pages => _pages.Count;

    /// <summary>Opens pages until <paramref name="count"/> are open, cycling through the dashboard's pages.</summary>
    public async Task OpenUntilAsync(int count)
    {
        while (_pages.Count < count)
        {
            var page = await browser.NewPageAsync();
            await LivePage.GoAsync(page, dashboard.BaseAddress + Paths[_pages.Count % Paths.Length]);
            _pages.Add(page);
        }

        // Steady state only: the pages' one-time reads on opening (a page of dead letters, recent results) have passed
        // once two one-second windows in a row cost the same commands per sample, within 10 %.
        var before = await MeasureAsync(TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(async () =>
        {
            var now = await MeasureAsync(TimeSpan.FromSeconds(1));
            bool steady = Math.Abs(now.CommandsPerSample - before.CommandsPerSample) <= 0.1 * before.CommandsPerSample;
            before = now;
            return steady;
        }, TimeSpan.FromSeconds(30), () => $"the dashboard's Redis load settling with {_pages.Count} page(s): last {before.Describe()}");
    }

    /// <summary>Commands per second the server processed over <paramref name="window"/>, and the dashboard's CPU share.</summary>
    public async Task<Measurement> MeasureAsync(TimeSpan window)
    {
        var server = redis.Client.GetServer(redis.Client.GetEndPoints()[0]);
        var statsBefore = await CommandStatsAsync(server);
        long before = await CommandsAsync(server);
        var cpuBefore = dashboard.CpuTime;
        var start = DateTime.UtcNow;
        await Task.Delay(window);
        long after = await CommandsAsync(server);
        var statsAfter = await CommandStatsAsync(server);
        double seconds = (DateTime.UtcNow - start).TotalSeconds;
        var cpu = (dashboard.CpuTime - cpuBefore).TotalSeconds / seconds;
        // Two INFO calls of our own are in the count; leave them out.
        var calls = statsAfter
            .Select(kv => (kv.Key, Calls: kv.Value - statsBefore.GetValueOrDefault(kv.Key)))
            .Where(c => c.Calls > 0)
            .OrderByDescending(c => c.Calls)
            .ToList();
        // The sampler asks EXISTS of the paused flag once per sample and nothing else asks it: it counts the samples.
        long samples = calls.Where(c => c.Key == "exists").Sum(c => c.Calls);
        // The probe between samples (Dashboard:ProbeInterval) is the only SCARD, with two LLENs and an HMGET: a clock of its
        // own, not a page's; left out, so the commands per sample are the sampler's and the pages'.
        long probes = calls.Where(c => c.Key == "scard").Sum(c => c.Calls);
        long dashboardCommands = calls.Where(c => c.Key != "info").Sum(c => c.Calls) - 4 * probes;
        return new Measurement(_pages.Count, (after - before - 1) / seconds, dashboard.WorkingSet, cpu,
            string.Join(", ", calls.Select(c => $"{c.Key} {c.Calls}")), samples, dashboardCommands, seconds) { Probes = probes };
    }

    // "cmdstat_llen:calls=12,usec=..." per command, so a failure says which command grew.
    public static async Task<Dictionary<string, long>> CommandStatsAsync(IServer server)
    {
        var info = await server.InfoAsync("commandstats");
        return info.SelectMany(g => g).ToDictionary(
            kv => kv.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
            kv => long.Parse(kv.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture));
    }

    private static async Task<long> CommandsAsync(IServer server)
    {
        var info = await server.InfoAsync("stats");
        string value = info.SelectMany(g => g).First(kv => kv.Key == "total_commands_processed").Value;
        return long.Parse(value, CultureInfo.InvariantCulture);
    }

    /// <param name="Commands">Calls per command over the window, most frequent first (the INFO calls included).</param>
    /// <param name="Samples">The dashboard's queue samples in the window.</param>
    /// <param name="DashboardCommands">Every command but this class's own INFO calls.</param>
    public sealed record Measurement(
        int Pages, double CommandsPerSecond, long ServerBytes, double CpuCores, string Commands,
        long Samples, long DashboardCommands, double Seconds)
    {
        /// <summary>
        /// Commands per queue sample: what the pages add shows here whatever the machine's load, while commands per
        /// second also follow how often a starved sampler got to run.
        /// </summary>
        public double CommandsPerSample => Samples == 0 ? double.PositiveInfinity : (double)DashboardCommands / Samples;

        public double SamplesPerSecond => Samples / Seconds;

        /// <summary>The probe's round trips in the window: none while no page watches.</summary>
        public long Probes { get; init; }

        public string Describe() =>
            $"{Pages} page(s): {CommandsPerSecond:F1} commands/s, {Samples} samples in {Seconds:F1} s, " +
            $"{CommandsPerSample:F2} commands per sample ({Commands})";
    }
}
