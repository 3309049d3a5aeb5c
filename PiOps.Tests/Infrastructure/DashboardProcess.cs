using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// The dashboard started as a user starts it: its own process from its build output, on the embedded Garnet
/// (a free loopback port and a temporary data folder), with no Redis configured.
/// </summary>
public sealed class DashboardProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private DashboardProcess(Process process, int httpPort, int garnetPort, string dataDirectory)
    {
        _process = process;
        BaseAddress = $"http://127.0.0.1:{httpPort}";
        GarnetPort = garnetPort;
        DataDirectory = dataDirectory;
    }

    public string BaseAddress { get; }

    public int GarnetPort { get; }

    public string DataDirectory { get; }

    /// <summary>The embedded Garnet's password, as the dashboard keeps it in its data folder.</summary>
    public string RedisPassword => File.ReadAllText(Path.Combine(DataDirectory, "redis-password")).Trim();

    /// <summary>A StackExchange.Redis configuration for the embedded Garnet, with its password.</summary>
    public string RedisConfiguration => $"127.0.0.1:{GarnetPort},password={RedisPassword}";

    public string Output => string.Join("\n", _output);

    public int Pid => _process.Id;

    /// <summary>Resident memory of the dashboard process, in bytes.</summary>
    public long WorkingSet
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <summary>Total processor time the dashboard process has used.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Asks the process to stop (SIGTERM, as Kubernetes and Ctrl+C do) and waits for it.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            WorkerProcessSignals.Send(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(cts.Token);
        }
    }

    public static async Task<DashboardProcess> StartAsync(string? dataDirectory = null, IDictionary<string, string>? env = null)
    {
        string dll = WebDll();
        int httpPort = FreePort.Next();
        int garnetPort = FreePort.Next();
        bool ownsData = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("piops-dash-").FullName;
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        foreach (var name in new[] { "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "Redis__ConnectionString", "ASPNETCORE_URLS" })
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Embedded__Port"] = garnetPort.ToString();
        psi.Environment["Embedded__DataDirectory"] = dataDirectory;
        psi.Environment["Queue__HeartbeatTtl"] = "00:00:03";
        psi.Environment["Dashboard__RecoveryInterval"] = "00:00:01";
        psi.Environment["LocalRuntime__InitialReplicas"] = "0"; // tests start the workers they need
        // The probe between samples runs at 25 Hz while a page is open, a few percent of a core per dashboard on this
        // VM; the suite runs many dashboards with pages at once, so they probe at the sample's pace. The facts about
        // the probe (ProbeFacts, the page-latency and page-cost benches) set the product's default back.
        psi.Environment["Dashboard__ProbeInterval"] = "00:00:00.25";
        // Never a developer's real cluster: Auto would pick up ~/.kube/config. Tests of the cluster mode set it.
        psi.Environment["Kubernetes__Mode"] = "Local";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi };
        var dashboard = new DashboardProcess(process, httpPort, garnetPort, dataDirectory) { _ownsData = ownsData };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                dashboard._output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                dashboard._output.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.WaitAsync(() => dashboard._output.Any(l => l.StartsWith("PiOps dashboard listening on")) || process.HasExited,
                TimeSpan.FromSeconds(60), "the dashboard's start-up line");
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the dashboard exited with {process.ExitCode}:\n{dashboard.Output}");
            }
        }
        catch
        {
            await dashboard.DisposeAsync();
            throw;
        }

        return dashboard;
    }

    /// <summary>Stops the process hard, as a crash or a kill would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        if (_ownsData)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private bool _ownsData;

    /// <summary>PiOps.Web.dll from its own build output, in the configuration the tests were built in.</summary>
    private static string WebDll()
    {
        string configuration = typeof(DashboardProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        string dll = Path.Combine(Repository.Root, "PiOps.Web", "bin", configuration, "net10.0", "PiOps.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build PiOps.Web first (./test.sh does)", dll);
    }
}
