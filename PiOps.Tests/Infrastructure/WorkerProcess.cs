using System.Collections.Concurrent;
using System.Diagnostics;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// The real PiOps.Worker as a child process, with its output captured line by line (or written to files, as a
/// container runtime keeps a pod's log: <see cref="StartLoggingToFiles"/>) and signals sent for real.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly (string Output, string Error)? _logFiles;

    private WorkerProcess(Process process, (string Output, string Error)? logFiles = null)
    {
        _process = process;
        _logFiles = logFiles;
    }

    public int Pid => _process.Id;

    /// <summary>Its standard output so far, one line each (from its log file, for a worker that writes one).</summary>
    public IReadOnlyCollection<string> Lines => _logFiles is { } files ? ReadShared(files.Output) : _lines;

    public IReadOnlyCollection<string> ErrorLines => _logFiles is { } files ? ReadShared(files.Error) : _errors;

    public string Output => string.Join("\n", Lines) + "\n--- stderr ---\n" + string.Join("\n", ErrorLines);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Where the worker's build output is: next to the tests (the project reference copies it).</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "PiOps.Worker.dll");

    public static WorkerProcess Start(IDictionary<string, string?> environment, params string[] args) =>
        Start(null, environment, args);

    /// <summary>A worker on the other host of <paramref name="host"/> (its own network namespace), or here when null.</summary>
    public static WorkerProcess Start(NetworkNamespace? host, IDictionary<string, string?> environment, params string[] args)
    {
        // `ip netns exec` enters the namespace and then executes dotnet in its place: the pid is the worker's.
        var psi = new ProcessStartInfo(host is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Directory.CreateTempSubdirectory("piops-worker-").FullName,
        };
        if (host is not null)
        {
            foreach (var a in host.Exec("dotnet"))
            {
                psi.ArgumentList.Add(a);
            }
        }

        psi.ArgumentList.Add(WorkerDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_TieredPGO"] = "0";
        SetEnvironment(psi, environment);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>
    /// A worker as deployed, for measurements: its output goes straight to two files, as the container runtime writes
    /// a pod's log, not through this process a line at a time (at tens of thousands of tasks a second, reading the
    /// book's two lines a task took the cores the workers and Redis were measured on), and its runtime settings are
    /// the ones it ships with (no DOTNET_TieredPGO override). <see cref="Lines"/> reads the file.
    /// </summary>
    public static WorkerProcess StartLoggingToFiles(IDictionary<string, string?> environment)
    {
        string directory = Directory.CreateTempSubdirectory("piops-worker-").FullName;
        var files = (Output: Path.Combine(directory, "stdout.log"), Error: Path.Combine(directory, "stderr.log"));
        // The shell opens the files and then executes dotnet in its place: the pid is the worker's, signals reach it.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        foreach (var a in new[] { "-c", "exec dotnet \"$0\" >\"$1\" 2>\"$2\"", WorkerDll, files.Output, files.Error })
        {
            psi.ArgumentList.Add(a);
        }

        SetEnvironment(psi, environment);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.Start();
        return new WorkerProcess(process, files);
    }

    /// <summary>A clean environment for the worker's own variables: nothing leaks in from the test runner.</summary>
    private static void SetEnvironment(ProcessStartInfo psi, IDictionary<string, string?> environment)
    {
        foreach (var name in new[] { "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "QUEUE_NAME", "COMPLETE_WHEN_EMPTY",
                     "POP_TIMEOUT_SECONDS", "LIVENESS_FILE", "JOB_COMPLETION_INDEX", "TASKS", "TASKS_FILE",
                     "SHUTDOWN_TIMEOUT_SECONDS", "HEARTBEAT_TTL_SECONDS", "MAX_ITERATIONS", "MAX_ATTEMPTS",
                     "REDIS_SENTINELS", "REDIS_SENTINEL_SERVICE", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT_MS" })
        {
            psi.Environment.Remove(name);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }
    }

    private static string[] ReadShared(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    /// <summary>Environment for a queue worker against <paramref name="server"/> and <paramref name="queue"/>.</summary>
    public static Dictionary<string, string?> Env(TestRedisServer server, string queue, params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["REDIS_HOST"] = "127.0.0.1",
            ["REDIS_PORT"] = server.Port.ToString(),
            ["QUEUE_NAME"] = queue,
            ["POP_TIMEOUT_SECONDS"] = "1",
            ["HEARTBEAT_TTL_SECONDS"] = "3",
        };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return env;
    }

    public Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what) =>
        Eventually.WaitAsync(() => Lines.Any(match), timeout, $"{what}\nworker output so far:\n{Output}");

    public int CountLines(Func<string, bool> match) => Lines.Count(match);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"worker {Pid} did not exit within {timeout.TotalSeconds:F0} s\n{Output}");
        }

        return _process.ExitCode;
    }

    public void Signal(int signal) => WorkerProcessSignals.Send(_process.Id, signal);

    public void Terminate() => Signal(15);

    public void KillHard() => Signal(9);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }

        _process.Dispose();
        if (_logFiles is { } files)
        {
            // A measured run's log is tens of megabytes: kept only as long as the process that read it.
            Directory.Delete(Path.GetDirectoryName(files.Output)!, recursive: true);
        }
    }

}

/// <summary>Real POSIX signals to child processes; a signal that cannot be sent fails the test.</summary>
public static class WorkerProcessSignals
{
    public static void Send(int pid, int signal)
    {
        if (!PiOps.Shared.Processes.PosixSignals.Send(pid, signal))
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: the process is gone");
        }
    }
}
