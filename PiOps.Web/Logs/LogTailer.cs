using Microsoft.Extensions.Options;

namespace PiOps.Web.Logs;

/// <summary>
/// The one owner of upstream log streams in this process: a pod's stream is opened once however many pages or hub
/// clients watch it (by namespace and name), kept in a bounded buffer that a new viewer starts from, and closed when the last one leaves.
/// The number of streams open at once is capped (Logs:MaxStreams), with a sentence when the cap is reached.
/// </summary>
public sealed class LogTailer(IPodLogSource source, IOptions<LogOptions> options, ILogger<LogTailer> log)
{
    private readonly LogOptions _o = options.Value;
    private readonly Dictionary<PodAddress, Upstream> _streams = [];

    /// <summary>Upstream streams open now.</summary>
    public int OpenStreams
    {
        get
        {
            lock (_streams)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Upstream streams opened since start, for tests and metrics: one per pod while anyone watches it.</summary>
    public int StreamsOpened { get; private set; }

    /// <summary>
    /// Starts receiving <paramref name="pod"/>'s lines: <paramref name="backlog"/> holds what the shared buffer has, and
    /// <paramref name="onLine"/> gets each new line (on the stream's thread: hand it on, do not block). Dispose to leave.
    /// </summary>
    public IDisposable Attach(PodAddress pod, Action<LogLine> onLine, out IReadOnlyList<LogLine> backlog)
    {
        lock (_streams)
        {
            if (!_streams.TryGetValue(pod, out var upstream))
            {
                if (_streams.Count >= _o.MaxStreams)
                {
                    throw new LogStreamException($"{_o.MaxStreams} log streams are open already (Logs:MaxStreams): close a log page or choose fewer pods, or raise the limit.");
                }

                upstream = new Upstream(pod, _o.LinesPerPod);
                _streams[pod] = upstream;
                StreamsOpened++;
                // On the thread pool: never on the caller's context (a page's renderer, a test's), whose thread it would hold.
                _ = Task.Run(() => PumpAsync(upstream));
            }

            lock (upstream)
            {
                backlog = [.. upstream.Buffer];
                upstream.Subscribers.Add(onLine);
            }

            return new Detach(this, upstream, onLine);
        }
    }

    private async Task PumpAsync(Upstream upstream)
    {
        try
        {
            await foreach (var line in source.FollowAsync(upstream.Pod, _o.LinesPerPod, upstream.Stop.Token))
            {
                upstream.Publish(line);
            }
        }
        catch (OperationCanceledException) when (upstream.Stop.IsCancellationRequested)
        {
        }
        catch (LogStreamException ex)
        {
            // A sentence of ours (the pod is gone, the Role lacks pods/log, the API refused): no stack to show.
            log.LogWarning("The log stream of {Pod} ended: {Message}", upstream.Pod, ex.Message);
            upstream.Publish(new LogLine(DateTimeOffset.UtcNow, upstream.Pod.Name, true, $"── the log stream ended: {ex.Message} ──"));
        }
        catch (Exception ex)
        {
            // Unexpected: the stack goes to the log, so the cause can be found.
            log.LogWarning(ex, "The log stream of {Pod} ended: {Message}", upstream.Pod, ex.Message);
            upstream.Publish(new LogLine(DateTimeOffset.UtcNow, upstream.Pod.Name, true, $"── the log stream ended: {ex.Message} ──"));
        }
    }

    private void Leave(Upstream upstream, Action<LogLine> onLine)
    {
        lock (_streams)
        {
            bool last;
            lock (upstream)
            {
                upstream.Subscribers.Remove(onLine);
                last = upstream.Subscribers.Count == 0;
            }

            if (last && _streams.TryGetValue(upstream.Pod, out var current) && current == upstream)
            {
                _streams.Remove(upstream.Pod);
                upstream.Stop.Cancel();
            }
        }
    }

    private sealed class Upstream(PodAddress pod, int capacity)
    {
        public PodAddress Pod { get; } = pod;

        public CancellationTokenSource Stop { get; } = new();

        public Queue<LogLine> Buffer { get; } = new();

        public List<Action<LogLine>> Subscribers { get; } = [];

        public void Publish(LogLine line)
        {
            lock (this)
            {
                Buffer.Enqueue(line);
                while (Buffer.Count > capacity)
                {
                    Buffer.Dequeue();
                }

                foreach (var subscriber in Subscribers)
                {
                    subscriber(line);
                }
            }
        }
    }

    private sealed class Detach(LogTailer tailer, Upstream upstream, Action<LogLine> onLine) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                tailer.Leave(upstream, onLine);
            }
        }
    }
}
