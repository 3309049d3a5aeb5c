using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Queue;
using PiOps.Web.Utils;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Live;

/// <summary>
/// A subscriber that is slow (a page whose circuit is stuck, a hub client on a bad network) must not hold up the
/// sampler that publishes, nor the other subscribers.
/// </summary>
public sealed class SlowSubscriberFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task QueueMonitor_KeepsSamplingAndUpdatingOthers_WhileOneSubscriberIsBlocked()
    {
        await using var app = await DashboardApp.StartAsync(server, TestRedisServer.NewQueueName());
        var monitor = app.Services.GetRequiredService<IQueueState>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<DateTimeOffset>();

        // The blocked one first: handlers called one after another would leave the second waiting behind it.
        using var slow = monitor.Subscribe(async _ =>
        {
            blocked.TrySetResult();
            await release.Task;
        });
        using var fast = monitor.Subscribe(s =>
        {
            seen.Enqueue(s.At);
            return Task.CompletedTask;
        });
        try
        {
            await blocked.Task.WaitAsync(Bound);
            int seenWhenBlocked = seen.Count;
            var blockedSince = monitor.Current.At;

            // The sampler keeps its pace (250 ms): 8 more samples take 2 s; the bound allows for a busy machine.
            await Eventually.WaitAsync(() => seen.Count >= seenWhenBlocked + 8 && monitor.Current.At > blockedSince.AddSeconds(1), Bound,
                () => $"the other subscriber got {seen.Count - seenWhenBlocked} snapshot(s) and the monitor's last sample is " +
                      $"{(monitor.Current.At - blockedSince).TotalMilliseconds:F0} ms after the blocked call began");
            Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First < p.Second), "snapshots arrive in the order they were taken");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Publish_ReturnsAtOnce_AndABlockedSubscriberGetsOnlyTheNewestValueOnceFree()
    {
        var subscribers = new Subscribers<int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowSeen = new ConcurrentQueue<int>();
        var fastSeen = new ConcurrentQueue<int>();
        using var slow = subscribers.Add(async v =>
        {
            slowSeen.Enqueue(v);
            entered.TrySetResult();
            await release.Task;
        });
        using var fast = subscribers.Add(v =>
        {
            fastSeen.Enqueue(v);
            return Task.CompletedTask;
        });

        subscribers.Publish(1, NullLogger.Instance);
        await entered.Task.WaitAsync(Bound);
        subscribers.Publish(2, NullLogger.Instance);
        subscribers.Publish(3, NullLogger.Instance);

        await Eventually.WaitAsync(() => fastSeen.Contains(3), Bound, () => $"the free subscriber saw [{string.Join(", ", fastSeen)}]");
        Assert.Equal([1], slowSeen);
        release.TrySetResult();
        await Eventually.WaitAsync(() => slowSeen.Contains(3), Bound, () => $"the freed subscriber saw [{string.Join(", ", slowSeen)}]");
        Assert.Equal([1, 3], slowSeen);
    }

    [Fact]
    public async Task ADisposedSubscription_IsRemoved_AndGetsNothingPublishedAfterwards()
    {
        var subscribers = new Subscribers<int>();
        var got = new ConcurrentQueue<int>();
        var other = new ConcurrentQueue<int>();
        var subscription = subscribers.Add(v =>
        {
            got.Enqueue(v);
            return Task.CompletedTask;
        });
        using var witness = subscribers.Add(v =>
        {
            other.Enqueue(v);
            return Task.CompletedTask;
        });
        subscribers.Publish(1, NullLogger.Instance);
        await Eventually.WaitAsync(() => got.Contains(1), Bound, "the first value");

        subscription.Dispose();
        subscribers.Publish(2, NullLogger.Instance);

        // The witness got 2, so had the disposed one still been subscribed it would have been offered 2 as well.
        await Eventually.WaitAsync(() => other.Contains(2), Bound, "the second value at the other subscriber");
        Assert.Equal(1, subscribers.Count);
        Assert.Equal([1], got);
    }
}

/// <summary>The local runtime reconciles every 500 ms; a snapshot that differs only in its time is not news.</summary>
public sealed class UnchangedSnapshotFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("piops-unchanged-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task LocalRuntime_PublishesOnlySnapshotsThatChanged()
    {
        await using var app = await DashboardApp.StartWithLocalRuntimeAsync(server, TestRedisServer.NewQueueName(), _data, 0, "00:00:00.5");
        var runtime = app.Services.GetRequiredService<PiOps.Web.Local.LocalRuntime>();
        var published = new ConcurrentQueue<PiOps.Web.Workloads.WorkloadSnapshot>();
        using var subscription = runtime.Subscribe(s =>
        {
            published.Enqueue(s);
            return Task.CompletedTask;
        });
        await Eventually.WaitAsync(() => runtime.Current.At != DateTimeOffset.MinValue, TimeSpan.FromSeconds(30), "the runtime's first sample");
        var from = runtime.Current.At;
        published.Clear();

        // Nothing runs and nothing is asked: 4 s of samples at 500 ms (about 8) on the runtime's own clock.
        await Eventually.WaitAsync(() => runtime.Current.At >= from.AddSeconds(4), TimeSpan.FromSeconds(30), "4 s of the runtime's samples");

        var list = published.ToList();
        var repeats = list.Zip(list.Skip(1)).Count(p => p.First.SameContent(p.Second));
        Assert.True(repeats == 0, $"{repeats} of {list.Count} published snapshot(s) repeated the one before, their time aside.");
        // The autoscaler's chart takes a point a second (AutoscalerHistory), the one change while idle: 4 of them, and
        // a fifth when the first sample's point lands after the count began.
        Assert.True(list.Count <= 5, $"{list.Count} snapshots published in 4 s with nothing running");
    }
}
