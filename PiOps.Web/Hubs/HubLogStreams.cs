using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using PiOps.Web.Logs;
using PiOps.Web.Workloads;

namespace PiOps.Web.Hubs;

/// <summary>
/// The log streams the hubs serve, written once for <see cref="LogsHub"/> and the older routes on
/// <see cref="QueueHub"/>: the same shared per-pod streams as the Logs page. Scoped, so the namespace chosen belongs to
/// the one hub invocation that chose it.
/// </summary>
public sealed class HubLogStreams(IWorkloadRuntime runtime, WorkloadSelection selection, LogTailer tailer)
{
    /// <summary>
    /// The last <paramref name="tail"/> lines of each pod of the target, then each new line, with pods that appear
    /// attached; in <paramref name="namespace"/> when given (one the dashboard operates, else refused with the list).
    /// </summary>
    public async IAsyncEnumerable<LogLine> FollowAsync(string? @namespace, string target, int tail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (@namespace is not null)
        {
            try
            {
                await selection.SelectAsync(@namespace);
            }
            catch (OperatorActionException ex)
            {
                throw new HubException(ex.Message);
            }
        }

        var parsed = LogTarget.TryParse(target, out var error) ?? throw new HubException(error);
        var channel = LogChannel.Create();
        using var session = new LogSession(runtime, tailer, parsed, capacity: 10_000, tail: Math.Clamp(tail, 0, 10_000),
            onLine: line => channel.Writer.TryWrite(line));
        // A line that arrives while the backlog is read is in both: send it once.
        var backlog = session.Lines;
        var sent = new HashSet<LogLine>(backlog, ReferenceEqualityComparer.Instance);
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
