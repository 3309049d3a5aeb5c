using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PiOps.Tests.Components;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Logs;

/// <summary>Merging, bounds and the stream cap, with a log source that floods as fast as it can.</summary>
public sealed class LogSessionFacts
{
    private static DeploymentView Deployment(int pods) => new("pi-worker", pods, pods, pods,
        Enumerable.Range(0, pods).Select(i => new PodView($"pod-{i}", "Running", true, 0, DateTimeOffset.UtcNow.AddMinutes(-i), 0, 0, "host", null, null)).ToList());

    /// <summary>Each pod writes <paramref name="perPod"/> lines as fast as it can, with increasing times interleaved across pods.</summary>
    private sealed class FloodSource(int perPod) : IPodLogSource
    {
        private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        public async IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            int index = int.Parse(pod.Name.Split('-')[1]);
            for (int i = 0; i < perPod; i++)
            {
                yield return new LogLine(T0.AddMilliseconds(i * 10 + index), pod.Name, false, $"line {i} of {pod.Name}");
                if (i % 1000 == 0)
                {
                    await Task.Yield();
                }
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private static LogTailer Tailer(IPodLogSource source, int maxStreams = 50, int perPod = 500) =>
        new(source, Options.Create(new LogOptions { MaxStreams = maxStreams, LinesPerPod = perPod }), NullLogger<LogTailer>.Instance);

    [Fact]
    public async Task AFlood_From10Pods_IsMergedInTimeOrder_AndBoundedEverywhere()
    {
        var runtime = new FakeWorkloadRuntime { Workers = Deployment(10) };
        var tailer = Tailer(new FloodSource(perPod: 10_000));

        using var session = new LogSession(runtime, tailer, new LogTarget(LogTargetKind.Deployment, "pi-worker"), capacity: 1_000, tail: 100);

        await Eventually.WaitAsync(() => session.Received >= 100_000, TimeSpan.FromSeconds(30), () => $"every line ({session.Received})");
        var lines = session.Lines;
        Assert.Equal(1_000, lines.Count);
        Assert.True(lines.Zip(lines.Skip(1)).All(p => p.First.At <= p.Second.At), "lines in time order");
        // The newest lines are kept: the last line of every pod is there.
        Assert.All(Enumerable.Range(0, 10), i => Assert.Contains(lines, l => l.Text == $"line 9999 of pod-{i}"));
        Assert.Equal(10, session.Pods.Count);
        Assert.Equal(10, tailer.OpenStreams);
    }

    [Fact]
    public void TwoViewers_ShareOneStreamPerPod_AndTheLastToLeaveClosesIt()
    {
        var runtime = new FakeWorkloadRuntime { Workers = Deployment(3) };
        var tailer = Tailer(new FloodSource(perPod: 10));
        var target = new LogTarget(LogTargetKind.Deployment, "pi-worker");

        var first = new LogSession(runtime, tailer, target, 1_000, 100);
        var second = new LogSession(runtime, tailer, target, 1_000, 100);

        Assert.Equal(3, tailer.StreamsOpened);
        Assert.Equal(3, tailer.OpenStreams);
        first.Dispose();
        Assert.Equal(3, tailer.OpenStreams);
        second.Dispose();
        Assert.Equal(0, tailer.OpenStreams);
    }

    [Fact]
    public void TheStreamCap_IsExplained_OnThePodsOverIt()
    {
        var runtime = new FakeWorkloadRuntime { Workers = Deployment(3) };
        var tailer = Tailer(new FloodSource(perPod: 10), maxStreams: 2);

        using var session = new LogSession(runtime, tailer, new LogTarget(LogTargetKind.Deployment, "pi-worker"), 1_000, 100);

        var refused = Assert.Single(session.Pods, p => p.Problem is not null);
        Assert.Contains("Logs:MaxStreams", refused.Problem);
        Assert.Equal(2, tailer.OpenStreams);
    }

    [Theory]
    [InlineData("deployment/pi-worker", LogTargetKind.Deployment, "pi-worker")]
    [InlineData("job/jobworker", LogTargetKind.Job, "jobworker")]
    [InlineData("pod/pi-worker-abc", LogTargetKind.Pod, "pi-worker-abc")]
    public void Targets_ReadAsKubectlWritesThem(string text, LogTargetKind kind, string name)
    {
        var target = LogTarget.Parse(text);
        Assert.Equal(new LogTarget(kind, name), target);
        Assert.Equal(text, target!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("pi-worker")]
    [InlineData("service/redis")]
    [InlineData("pod/")]
    [InlineData("selector/pod=-x")]
    [InlineData("selector/=pi")]
    public void BadTargets_AreNone(string text) => Assert.Null(LogTarget.Parse(text));

    [Theory]
    [InlineData("selector/pod=pi", "pod=pi")]
    [InlineData("-l pod=pi", "pod=pi")]
    [InlineData("selector/ job-name in (a,b) ", "job-name in (a,b)")]
    public void SelectorTargets_ReadAsKubectlsLabelOption(string text, string selector)
    {
        var target = LogTarget.TryParse(text, out var error);
        Assert.True(target is not null, error);
        Assert.Equal(new LogTarget(LogTargetKind.Selector, selector), target);
        Assert.Equal($"-l '{selector}'", target.Kubectl);
    }

    [Fact]
    public void ABadSelector_IsExplained()
    {
        Assert.Null(LogTarget.TryParse("selector/Pod_=x", out var error));
        Assert.Contains("not a valid label key", error);
        Assert.Null(LogTarget.TryParse("service/redis", out error));
        Assert.Contains("selector/LABELS", error);
    }

    [Fact]
    public void ASelector_TailsThePodsItSelects_AcrossTheDeploymentAndJobs()
    {
        var labelled = Deployment(3).Pods.Select((p, i) => p with { Labels = new Dictionary<string, string> { ["pod"] = i < 2 ? "pi" : "other" } }).ToList();
        var jobPod = new PodView("pod-7", "Running", true, 0, DateTimeOffset.UtcNow, 0, 0, "host", null, null)
        {
            Labels = new Dictionary<string, string> { ["pod"] = "pi", ["job-name"] = "addwork" },
        };
        var runtime = new FakeWorkloadRuntime { Workers = new DeploymentView("pi-worker", 3, 3, 3, labelled) };
        runtime.Jobs.Add(new JobView(JobSpec.Templates[0].Spec with { Name = "addwork" }, 1, 0, 0, null, null, DateTimeOffset.UtcNow, null, [jobPod]));
        var tailer = Tailer(new FloodSource(perPod: 10));

        using var session = new LogSession(runtime, tailer, LogTarget.Parse("selector/pod=pi")!, 1_000, 100);

        Assert.Equal(["pod-0", "pod-1", "pod-7"], session.Pods.Select(p => p.Name).Order());
        Assert.Equal(3, tailer.OpenStreams);
    }

    /// <summary>Records which pods were asked for, by namespace and name, and writes one line naming them.</summary>
    private sealed class AddressSource : IPodLogSource
    {
        public System.Collections.Concurrent.ConcurrentQueue<PodAddress> Asked { get; } = new();

        public async IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Asked.Enqueue(pod);
            yield return new LogLine(DateTimeOffset.UtcNow, pod.Name, false, $"from {pod}");
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [Fact]
    public async Task PodsOfOneName_InTwoNamespaces_AreTwoStreams_EachAskedForInItsOwnNamespace()
    {
        var source = new AddressSource();
        var tailer = Tailer(source);
        var inA = new FakeWorkloadRuntime { Workers = Deployment(1), Namespace = "team-a" };
        var inB = new FakeWorkloadRuntime { Workers = Deployment(1), Namespace = "team-b" };

        using var a = new LogSession(inA, tailer, LogTarget.Parse("pod/pod-0")!, 1_000, 100);
        using var b = new LogSession(inB, tailer, LogTarget.Parse("pod/pod-0")!, 1_000, 100);

        await Eventually.WaitAsync(() => a.Lines.Count == 1 && b.Lines.Count == 1, TimeSpan.FromSeconds(10), "a line in each session");
        Assert.Equal("from team-a/pod-0", a.Lines[0].Text);
        Assert.Equal("from team-b/pod-0", b.Lines[0].Text);
        Assert.Equal(2, tailer.OpenStreams);
        Assert.Equal([new PodAddress("team-a", "pod-0"), new PodAddress("team-b", "pod-0")], source.Asked.OrderBy(p => p.Namespace));
    }
}
