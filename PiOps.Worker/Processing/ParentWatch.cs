using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PiOps.Worker.Processing;

/// <summary>
/// For workers started by the dashboard's local runtime (PIOPS_PARENT_PID): when that process is gone, stop as on
/// SIGTERM, so no worker outlives the dashboard even if the dashboard was killed.
/// </summary>
public sealed partial class ParentWatch(int parentPid, IHostApplicationLifetime lifetime, ILogger<ParentWatch> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!IsAlive(parentPid))
                {
                    log.LogWarning("The process that started this worker (pid {Pid}) is gone; stopping", parentPid);
                    BookConsole.Standard.Line("parent gone: stopping");
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>kill(pid, 0): 0 when the process exists (EPERM also means it exists).</summary>
    public static bool IsAlive(int pid) => Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
