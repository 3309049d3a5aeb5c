using System.Diagnostics;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>One "pod" of the local runtime: a PiOps.Worker child process, its restarts and its bounded output.</summary>
internal sealed class LocalPod(string name, int logLines, TimeProvider time, IReadOnlyDictionary<string, string> labels)
{
    private readonly Queue<LogLine> _logs = new();
    private TimeSpan _lastCpu;
    private long _lastSample;

    public string Name { get; } = name;

    /// <summary>The labels Kubernetes would give this pod (its template's, and the Job controller's).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;

    public Process? Process { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    public int Restarts { get; set; }

    /// <summary>When set, the pod is stopping: SIGTERM was sent, SIGKILL follows at this time.</summary>
    public DateTimeOffset? KillAt { get; set; }

    /// <summary>A crashed pod waits until then before it is started again.</summary>
    public DateTimeOffset? RestartAt { get; set; }

    public double CpuPercent { get; private set; }

    /// <summary>What the runtime saw happen to this pod. Used under the runtime's lock.</summary>
    public LocalEvents Events { get; } = new();

    public long MemoryBytes { get; private set; }

    public bool IsRunning => Process is { HasExited: false };

    public int? ExitCode => Process is { HasExited: true } p ? p.ExitCode : null;

    public void Start(ProcessStartInfo psi)
    {
        var old = Process;
        if (old is not null)
        {
            // What the previous container wrote stays above this line, as `kubectl logs --previous` would show it.
            Append($"── restarted (the previous run exited with {(old.HasExited ? old.ExitCode : -1)}) ──", error: false);
        }

        old?.Dispose();
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => Append(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Process = process;
        StartedAt = time.GetUtcNow();
        _lastCpu = TimeSpan.Zero;
        _lastSample = time.GetTimestamp();
        RestartAt = null;
    }

    /// <summary>SIGKILL, tolerating a process that exits at the same moment.</summary>
    public void KillNow()
    {
        try
        {
            Process?.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>CPU as a share of one core since the last sample, and resident memory.</summary>
    public void Sample()
    {
        if (Process is not { HasExited: false } p)
        {
            CpuPercent = 0;
            return;
        }

        try
        {
            p.Refresh();
            var cpu = p.TotalProcessorTime;
            double wall = time.GetElapsedTime(_lastSample).TotalSeconds;
            if (wall > 0.05)
            {
                CpuPercent = Math.Max(0, (cpu - _lastCpu).TotalSeconds / wall * 100);
                _lastCpu = cpu;
                _lastSample = time.GetTimestamp();
            }

            MemoryBytes = p.WorkingSet64;
        }
        catch (InvalidOperationException)
        {
            CpuPercent = 0;
        }
    }

    public IReadOnlyList<LogLine> Logs()
    {
        lock (_logs)
        {
            return [.. _logs];
        }
    }

    /// <summary>
    /// The last <paramref name="tail"/> lines and every line after them: <paramref name="onLine"/> is called for each new
    /// line (under the buffer's lock, so it must only hand the line on). Dispose to stop.
    /// </summary>
    public (IReadOnlyList<LogLine> Tail, IDisposable Subscription) Follow(int tail, Action<LogLine> onLine)
    {
        lock (_logs)
        {
            _written += onLine;
            return ([.. _logs.Skip(Math.Max(0, _logs.Count - tail))], new Unsubscribe(this, onLine));
        }
    }

    private Action<LogLine>? _written;

    private void Append(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }

        lock (_logs)
        {
            var entry = new LogLine(time.GetUtcNow(), Name, error, line);
            _logs.Enqueue(entry);
            while (_logs.Count > logLines)
            {
                _logs.Dequeue();
            }

            _written?.Invoke(entry);
        }
    }

    private sealed class Unsubscribe(LocalPod pod, Action<LogLine> onLine) : IDisposable
    {
        public void Dispose()
        {
            lock (pod._logs)
            {
                pod._written -= onLine;
            }
        }
    }
}
