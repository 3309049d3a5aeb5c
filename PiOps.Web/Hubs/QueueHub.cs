using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using PiOps.Shared.Queue;
using PiOps.Web.Api;
using PiOps.Web.Queue;

namespace PiOps.Web.Hubs;

/// <summary>
/// Real-time feed for external clients: queue statistics after every sample and each task completion, as
/// SignalR streams. Both come from the shared monitor, so clients add no Redis load. Log lines are
/// <see cref="LogsHub"/>'s; the two log streams here are the routes clients used before it, kept working.
/// </summary>
public sealed class QueueHub(IQueueState monitor, HubLogStreams logs) : Hub, Security.ISessionCheckedHub
{
    public const string Path = "/hubs/queue";

    /// <summary>The latest statistics now, then one item per sample.</summary>
    public async IAsyncEnumerable<QueueStats> StreamStats([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<QueueSnapshot>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        using var sub = monitor.Subscribe(s =>
        {
            channel.Writer.TryWrite(s);
            return Task.CompletedTask;
        });
        using var watch = monitor.Watch();
        yield return QueueStats.From(monitor.Current);
        await foreach (var s in channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return QueueStats.From(s);
        }
    }

    /// <summary>Each task completion from now on. A slow client loses the oldest when 1,000 are waiting.</summary>
    public async IAsyncEnumerable<TaskResult> StreamCompletions([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<TaskResult>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        using var sub = monitor.SubscribeCompletions(r =>
        {
            channel.Writer.TryWrite(r);
            return Task.CompletedTask;
        });
        await foreach (var r in channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return r;
        }
    }

    /// <summary>The older route of <see cref="LogsHub.StreamLogs"/>, for clients written before the logs hub.</summary>
    public IAsyncEnumerable<Logs.LogLine> StreamLogs(string target, int tail, CancellationToken cancellationToken) =>
        logs.FollowAsync(null, target, tail, cancellationToken);

    /// <summary>The older route of <see cref="LogsHub.StreamLogsIn"/>.</summary>
    public IAsyncEnumerable<Logs.LogLine> StreamLogsIn(string @namespace, string target, int tail, CancellationToken cancellationToken) =>
        logs.FollowAsync(@namespace, target, tail, cancellationToken);
}
