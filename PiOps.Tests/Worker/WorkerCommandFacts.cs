using PiOps.Tests.Infrastructure;
using Xunit;

namespace PiOps.Tests.Worker;

/// <summary>The worker's commands and configuration errors, run as a real process; no Redis needed.</summary>
public class WorkerCommandFacts
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MissingRedisHost_FailsWithOneClearLine()
    {
        await using var worker = WorkerProcess.Start(new Dictionary<string, string?>());

        Assert.Equal(1, await worker.WaitForExitAsync(Wait));
        Assert.Equal(["error: REDIS_HOST is not set: set REDIS_HOST, or REDIS_SENTINELS and REDIS_SENTINEL_SERVICE (or Redis:ConnectionString)."], worker.ErrorLines);
    }

    [Fact]
    public async Task BadSettings_AreAllReportedAtOnce()
    {
        await using var worker = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["REDIS_HOST"] = "localhost",
            ["REDIS_PORT"] = "seventy",
            ["POP_TIMEOUT_SECONDS"] = "0",
            ["MAX_ATTEMPTS"] = "0",
        });

        Assert.Equal(1, await worker.WaitForExitAsync(Wait));
        Assert.Contains(worker.ErrorLines, l => l.Contains("REDIS_PORT must be a whole number"));
        Assert.Contains(worker.ErrorLines, l => l.Contains("POP_TIMEOUT_SECONDS must be from 1"));
        Assert.Contains(worker.ErrorLines, l => l.Contains("Maximum attempts must be from 1"));
    }

    [Fact]
    public async Task PiCommand_PrintsTheValue()
    {
        await using var p = WorkerProcess.Start(new Dictionary<string, string?>(), "pi", "1000");

        Assert.Equal(0, await p.WaitForExitAsync(Wait));
        Assert.Equal([PiOps.Shared.Pi.LeibnizPi.Compute(1000).ToString()], p.Lines);
    }

    [Fact]
    public async Task PiCommand_RejectsANonNumber()
    {
        await using var p = WorkerProcess.Start(new Dictionary<string, string?>(), "pi", "lots");

        Assert.Equal(2, await p.WaitForExitAsync(Wait));
        Assert.Contains("not a whole number", string.Join("\n", p.ErrorLines));
    }

    [Theory]
    [InlineData(0, "300", 0)]
    [InlineData(-400, "300", 1)]
    [InlineData(null, "300", 2)]
    public async Task CheckLiveness_ExitCodes(int? ageSeconds, string maxAge, int expected)
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-live-{Guid.NewGuid():N}.date");
        if (ageSeconds is { } age)
        {
            File.WriteAllText(file, (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + age).ToString());
        }

        await using var p = WorkerProcess.Start(new Dictionary<string, string?>(), "check-liveness", file, maxAge);

        Assert.Equal(expected, await p.WaitForExitAsync(Wait));
    }

    [Fact]
    public async Task CheckLiveness_GarbageFile_IsUnreadable()
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-live-{Guid.NewGuid():N}.date");
        File.WriteAllText(file, "yesterday");

        await using var p = WorkerProcess.Start(new Dictionary<string, string?>(), "check-liveness", file, "300");

        Assert.Equal(2, await p.WaitForExitAsync(Wait));
        Assert.Contains("does not hold a Unix time", string.Join("\n", p.ErrorLines));
    }

    [Fact]
    public async Task IndexedJob_RunsTheTaskAtItsIndex_AndExitsZero()
    {
        await using var p = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["JOB_COMPLETION_INDEX"] = "2",
            ["TASKS"] = "10, 20, 30, 40",
        });

        Assert.Equal(0, await p.WaitForExitAsync(Wait));
        Assert.Contains("got task: 30 (index 2)", p.Lines);
        Assert.Contains(p.Lines, l => l.StartsWith(PiOps.Shared.Pi.LeibnizPi.Compute(30).ToString()));
    }

    [Fact]
    public async Task IndexedJob_IndexPastTheList_FailsClearly()
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-tasks-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, "10\n20\n");
        await using var p = WorkerProcess.Start(new Dictionary<string, string?>
        {
            ["JOB_COMPLETION_INDEX"] = "5",
            ["TASKS_FILE"] = file,
        });

        Assert.Equal(1, await p.WaitForExitAsync(Wait));
        Assert.Contains("past the end of the task list (2 tasks)", string.Join("\n", p.ErrorLines));
    }
}
