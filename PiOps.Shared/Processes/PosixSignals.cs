using System.Runtime.InteropServices;

namespace PiOps.Shared.Processes;

/// <summary>Real POSIX signals, for the local runtime's pods, a worker watching its parent, and the tests.</summary>
public static partial class PosixSignals
{
    public const int Term = 15;
    public const int Kill = 9;

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone.</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    /// <summary>kill(pid, 0): the process exists (EPERM also means it exists).</summary>
    public static bool IsAlive(int pid) => SendSignal(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
