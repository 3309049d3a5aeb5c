using System.Collections.Concurrent;
using System.Diagnostics;

namespace PiOps.Tests.Infrastructure;

/// <summary>The real PiOps.Worker as a child process, with its output captured line by line and signals sent for real.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public IReadOnlyCollection<string> Lines => _lines;

    public IReadOnlyCollection<string> ErrorLines => _errors;

    public string Output => string.Join("\n", _lines) + "\n--- stderr ---\n" + string.Join("\n", _errors);

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

        // A clean environment for the worker's own variables: nothing leaks in from the test runner.
        foreach (var name in new[] { "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "QUEUE_NAME", "COMPLETE_WHEN_EMPTY",
                     "POP_TIMEOUT_SECONDS", "LIVENESS_FILE", "JOB_COMPLETION_INDEX", "TASKS", "TASKS_FILE",
                     "SHUTDOWN_TIMEOUT_SECONDS", "HEARTBEAT_TTL_SECONDS", "MAX_ITERATIONS", "MAX_ATTEMPTS",
                     "REDIS_SENTINELS", "REDIS_SENTINEL_SERVICE", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT_MS" })
        {
            psi.Environment.Remove(name);
        }

        psi.Environment["DOTNET_TieredPGO"] = "0";
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

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
        Eventually.WaitAsync(() => _lines.Any(match), timeout, $"{what}\nworker output so far:\n{Output}");

    public int CountLines(Func<string, bool> match) => _lines.Count(match);

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
