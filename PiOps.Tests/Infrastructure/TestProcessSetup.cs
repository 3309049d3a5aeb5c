using System.Runtime.CompilerServices;

namespace PiOps.Tests.Infrastructure;

/// <summary>Settings of the test process itself, made once when the assembly loads.</summary>
internal static class TestProcessSetup
{
    /// <summary>
    /// Test classes run in parallel and some wait on processes and browsers; with the thread pool's minimum at the core
    /// count (2 on CI) the pool adds threads about once a second, and a Redis reply can then wait longer than its
    /// timeout for a thread to read it. A larger minimum removes that starvation from the harness; the dashboards and
    /// workers that tests start as processes keep their defaults.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        // bunit's WaitForAssertion gives up after 1 s by default: on a busy CI machine a render can take longer.
        Bunit.BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(10);
    }
}
