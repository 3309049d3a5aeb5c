using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using PiOps.Shared.Queue;
using PiOps.Web.Api;
using PiOps.Web.Queue;

namespace PiOps.Web.Hubs;

/// <summary>
/// Real-time feed for external clients: queue statistics after every sample and each task completion, as
/// SignalR streams. Both come from the shared monitor, so clients add no Redis load. And log lines of a pod, the
/// workers Deployment or a Job, from the same shared streams as the Logs page, in the default namespace or, with
/// <see cref="StreamLogsIn"/>, in another one the dashboard operates.
/// </summary>
public sealed class QueueHub(IQueueState monitor, Workloads.IWorkloadRuntime runtime, Workloads.WorkloadSelection selection, Logs.LogTailer tailer)
    : Hub, Security.ISessionCheckedHub
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

    /// <summary>
    /// Log lines of "pod/NAME", "deployment/NAME", "job/NAME" or "selector/LABELS": the last <paramref name="tail"/> lines of each pod, then
    /// each new line, with pods that appear attached. A slow client loses the oldest when <see cref="Logs.LogChannel.Capacity"/> are waiting.
    /// </summary>
    public IAsyncEnumerable<Logs.LogLine> StreamLogs(string target, int tail, CancellationToken cancellationToken) =>
        FollowAsync(target, tail, cancellationToken);

    /// <summary>
    /// As <see cref="StreamLogs"/>, in <paramref name="namespace"/>, one of the namespaces the dashboard operates
    /// (Kubernetes:Namespaces), as `kubectl logs -n NAMESPACE` would. Any other is refused with the list.
    /// </summary>
    public async IAsyncEnumerable<Logs.LogLine> StreamLogsIn(string @namespace, string target, int tail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            // The selection is this invocation's own (the hub's scope), so the runtime below is that namespace's.
            await selection.SelectAsync(@namespace);
        }
        catch (OperatorActionException ex)
        {
            throw new HubException(ex.Message);
        }

        await foreach (var line in FollowAsync(target, tail, cancellationToken))
        {
            yield return line;
        }
    }

    private async IAsyncEnumerable<Logs.LogLine> FollowAsync(string target, int tail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parsed = Logs.LogTarget.TryParse(target, out var error) ?? throw new HubException(error);
        var channel = Logs.LogChannel.Create();
        using var session = new Logs.LogSession(runtime, tailer, parsed, capacity: 10_000, tail: Math.Clamp(tail, 0, 10_000),
            onLine: line => channel.Writer.TryWrite(line));
        // A line that arrives while the backlog is read is in both: send it once.
        var backlog = session.Lines;
        var sent = new HashSet<Logs.LogLine>(backlog, ReferenceEqualityComparer.Instance);
        foreach (var line in backlog)
        {
            yield return line;
        }

        await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
        {
            if (!sent.Remove(line))
            {
                yield return line;
            }
        }
    }
}
