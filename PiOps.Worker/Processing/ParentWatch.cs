using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PiOps.Shared.Processes;

namespace PiOps.Worker.Processing;

/// <summary>
/// For workers started by the dashboard's local runtime (PIOPS_PARENT_PID): when that process is gone, stop as on
/// SIGTERM, so no worker outlives the dashboard even if the dashboard was killed.
/// </summary>
public sealed class ParentWatch(int parentPid, IHostApplicationLifetime lifetime, ILogger<ParentWatch> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!PosixSignals.IsAlive(parentPid))
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
}
