using System.Diagnostics;

namespace PiOps.Tests.Infrastructure;

/// <summary>Starts one of Debian's Redis programs (redis-server, redis-sentinel) with its output handed line by line to the caller.</summary>
public static class RedisProcess
{
    public static Process Start(string exe, IEnumerable<string> args, Action<string> onLine)
    {
        string path = File.Exists($"/usr/bin/{exe}") ? $"/usr/bin/{exe}" : exe;
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{exe} is not installed: run ./test.sh, which installs it (apt-get install redis-server redis-sentinel)", ex);
        }

        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
