using PiOps.Web.Logs;
using Microsoft.AspNetCore.SignalR;

namespace PiOps.Web.Hubs;

/// <summary>
/// Log lines for external clients (a terminal tail, a chat bot): a pod, the workers Deployment, a Job or a label
/// selector, as SignalR streams from the same shared streams as the Logs page, so clients open no second stream to the
/// cluster. The queue's own streams are on <see cref="QueueHub"/>.
/// </summary>
public sealed class LogsHub(HubLogStreams streams) : Hub, Security.ISessionCheckedHub
{
    public const string Path = "/hubs/logs";

    /// <summary>
    /// Log lines of "pod/NAME", "deployment/NAME", "job/NAME" or "selector/LABELS" in the default namespace: the last
    /// <paramref name="tail"/> lines of each pod, then each new line. A slow client loses the oldest when
    /// <see cref="LogChannel.Capacity"/> are waiting.
    /// </summary>
    public IAsyncEnumerable<LogLine> StreamLogs(string target, int tail, CancellationToken cancellationToken) =>
        streams.FollowAsync(null, target, tail, cancellationToken);

    /// <summary>As <see cref="StreamLogs"/>, in <paramref name="namespace"/>, one the dashboard operates (`kubectl logs -n`).</summary>
    public IAsyncEnumerable<LogLine> StreamLogsIn(string @namespace, string target, int tail, CancellationToken cancellationToken) =>
        streams.FollowAsync(@namespace, target, tail, cancellationToken);
}
