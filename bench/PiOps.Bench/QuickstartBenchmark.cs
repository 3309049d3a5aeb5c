using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using PiOps.Shared.Pi;
using PiOps.Tests.Infrastructure;

namespace PiOps.Bench;

/// <summary>
/// The README's quickstart as a new user runs it: a copy of this working tree with no build output, then
/// `dotnet run --project PiOps.Web` (the default, Debug, configuration, with its launch profile) on free ports. One task of n iterations
/// (default 10^8) is enqueued through the API; the worker's own duration for it is compared with
/// <see cref="LeibnizPi.Compute"/> of the same n in this (Release) process, the baseline. Goal: the worker the
/// quickstart starts is at most 1.5x the baseline (a Debug worker was about 50x).
/// </summary>
internal static class QuickstartBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 100_000_000;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
        string copy = Path.Combine(Path.GetTempPath(), "piops-quickstart-" + Guid.NewGuid().ToString("N")[..8]);
        CopyWorkingTree(Repository.Root, copy);
        int http = FreePort.Next(), garnet = FreePort.Next();
        var start = new ProcessStartInfo("dotnet", ["run", "--project", "PiOps.Web", "--", "--urls", $"http://127.0.0.1:{http}"])
        {
            WorkingDirectory = copy,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Embedded__Port"] = garnet.ToString();
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var key in new[] { "REDIS_HOST", "REDIS_PORT", "Redis__ConnectionString", "ASPNETCORE_ENVIRONMENT", "KUBECONFIG" })
        {
            start.Environment.Remove(key);
        }

        var clock = Stopwatch.StartNew();
        using var dashboard = Process.Start(start) ?? throw new InvalidOperationException("dotnet run did not start");
        var log = new List<string>();
        var listening = new TaskCompletionSource();
        dashboard.OutputDataReceived += (_, e) => Capture(e.Data);
        dashboard.ErrorDataReceived += (_, e) => Capture(e.Data);
        dashboard.BeginOutputReadLine();
        dashboard.BeginErrorReadLine();
        try
        {
            var ready = await Task.WhenAny(listening.Task, dashboard.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(8)));
            if (ready != listening.Task)
            {
                Console.Error.WriteLine("the dashboard did not start:\n" + string.Join('\n', log.TakeLast(40)));
                return 1;
            }

            Console.WriteLine($"dotnet run --project PiOps.Web: listening after {clock.Elapsed.TotalSeconds:F0} s (build included)");
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromMinutes(2) };
            LeibnizPi.Compute(n / 10); // warm the baseline up
            var worker = new List<double>();
            var baseline = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                var sw = Stopwatch.StartNew();
                LeibnizPi.Compute(n);
                baseline.Add(sw.Elapsed.TotalMilliseconds);
                worker.Add(await WorkerDurationAsync(client, n));
            }

            double w = Median(worker), b = Median(baseline), ratio = w / b;
            Console.WriteLine($"n = {n:N0}: quickstart worker {string.Join(", ", worker.Select(x => $"{x:F0}"))} ms (median {w:F0}); " +
                              $"LeibnizPi.Compute in this Release process {string.Join(", ", baseline.Select(x => $"{x:F0}"))} ms (median {b:F0}); ratio {ratio:F2}");
            bool ok = ratio <= 1.5;
            Console.WriteLine(ok ? "goal met: the quickstart's workers compute pi at the Release speed" : "GOAL MISSED");
            return ok ? 0 : 1;
        }
        finally
        {
            if (!dashboard.HasExited)
            {
                // SIGTERM: the dashboard stops its workers with the grace period, as on Ctrl-C.
                Process.Start("kill", ["-TERM", dashboard.Id.ToString()])?.WaitForExit();
                if (!dashboard.WaitForExit(60_000))
                {
                    dashboard.Kill(entireProcessTree: true);
                }
            }

            Directory.Delete(copy, recursive: true);
        }

        void Capture(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.Add(line);
            }

            if (line.Contains("PiOps dashboard listening", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        }
    }

    /// <summary>Enqueues one task and returns the duration the worker recorded for it.</summary>
    private static async Task<double> WorkerDurationAsync(HttpClient client, long n)
    {
        var created = await client.PostAsJsonAsync("/api/tasks", new { iterations = n });
        created.EnsureSuccessStatusCode();
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        string id = body.GetProperty("ids")[0].GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            var task = await client.GetFromJsonAsync<JsonElement>($"/api/tasks/{id}");
            if (task.TryGetProperty("durationMs", out var d) && d.ValueKind == JsonValueKind.Number)
            {
                return d.GetDouble();
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"task {id} of {n:N0} iterations did not finish in 5 minutes");
    }

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    /// <summary>The tracked and untracked-but-not-ignored files, as a fresh clone with local edits would have them.</summary>
    private static void CopyWorkingTree(string from, string to)
    {
        var git = Process.Start(new ProcessStartInfo("git", ["-C", from, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        {
            RedirectStandardOutput = true,
        })!;
        string files = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        foreach (var file in files.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            string source = Path.Combine(from, file);
            if (!File.Exists(source))
            {
                continue; // deleted in the working tree
            }

            string target = Path.Combine(to, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
    }
}
