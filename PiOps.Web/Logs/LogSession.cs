using PiOps.Web.Workloads;

namespace PiOps.Web.Logs;

/// <summary>One pod as a log session sees it: its colour, whether it is gone, how many lines it sent.</summary>
public sealed record TailedPod(string Name, int Colour, bool Gone, string? Problem);

/// <summary>
/// One viewer's tail of a target (a page or a hub client): follows the runtime's pods, in the namespace of each snapshot, attaches pods that appear
/// and marks those that go away (as stern does), and merges their lines in time order into a bounded list.
/// </summary>
public sealed class LogSession : IDisposable
{
    private readonly IWorkloadRuntime _runtime;
    private readonly LogTailer _tailer;
    private readonly int _capacity;
    private readonly int _tail;
    private readonly object _gate = new();
    private readonly List<LogLine> _lines = [];
    private readonly Dictionary<PodAddress, (TailedPod Pod, IDisposable? Attachment)> _pods = [];
    private readonly IDisposable _subscription;
    private readonly Action<LogLine>? _onLine;
    private readonly object _following = new();
    private int _nextColour;
    private bool _disposed;

    /// <param name="tail">Lines of each pod's past to start from (the shared buffer holds at most Logs:LinesPerPod).</param>
    /// <param name="onLine">Optional: each line as it arrives, e.g. for a hub stream.</param>
    public LogSession(IWorkloadRuntime runtime, LogTailer tailer, LogTarget target, int capacity, int tail, Action? changed = null,
        Action<LogLine>? onLine = null)
    {
        _runtime = runtime;
        _tailer = tailer;
        Target = target;
        _capacity = capacity;
        _tail = tail;
        Changed = changed;
        _onLine = onLine;
        Follow(runtime.Current);
        _subscription = runtime.Subscribe(s =>
        {
            Follow(s);
            return Task.CompletedTask;
        });
    }

    public LogTarget Target { get; }

    /// <summary>Called (on any thread) when lines or pods changed; throttle before rendering.</summary>
    public Action? Changed { get; set; }

    /// <summary>Lines received since start, whether or not they are still kept.</summary>
    public long Received { get; private set; }

    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public IReadOnlyList<TailedPod> Pods
    {
        get
        {
            lock (_gate)
            {
                return _pods.Values.Select(p => p.Pod).OrderBy(p => p.Colour).ToList();
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _lines.Clear();
        }

        Changed?.Invoke();
    }

    // One look at a time: two snapshots at once must not attach a pod twice.
    private void Follow(WorkloadSnapshot snapshot)
    {
        lock (_following)
        {
            FollowLocked(snapshot);
        }
    }

    private void FollowLocked(WorkloadSnapshot snapshot)
    {
        var current = Target.Pods(snapshot).ToHashSet();
        List<(PodAddress Pod, int Colour)> attach;
        var detach = new List<IDisposable>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            attach = current.Where(n => !_pods.ContainsKey(n) || _pods[n].Pod.Gone)
                .Select(n => (n, _pods.TryGetValue(n, out var old) ? old.Pod.Colour : _nextColour++))
                .ToList();
            foreach (var (name, (pod, attachment)) in _pods.Where(p => !current.Contains(p.Key) && !p.Value.Pod.Gone).ToList())
            {
                if (attachment is not null)
                {
                    detach.Add(attachment);
                }

                _pods[name] = (pod with { Gone = true }, null);
            }
        }

        // Attach and detach outside the session's lock: the tailer calls Add under its own locks.
        detach.ForEach(d => d.Dispose());
        foreach (var (address, colour) in attach)
        {
            try
            {
                var attachment = _tailer.Attach(address, Add, out var backlog);
                lock (_gate)
                {
                    _pods[address] = (new TailedPod(address.Name, colour, false, null), attachment);
                    foreach (var line in backlog.Skip(Math.Max(0, backlog.Count - _tail)))
                    {
                        Insert(line);
                    }
                }
            }
            catch (LogStreamException ex)
            {
                lock (_gate)
                {
                    _pods[address] = (new TailedPod(address.Name, colour, false, ex.Message), null);
                }
            }
        }

        if (attach.Count > 0 || detach.Count > 0)
        {
            Changed?.Invoke();
        }
    }

    private void Add(LogLine line)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            Insert(line);
        }

        _onLine?.Invoke(line);
        Changed?.Invoke();
    }

    // Lines of one pod arrive in order; pods interleave. Insert from the end, where nearly every line belongs.
    private void Insert(LogLine line)
    {
        Received++;
        int i = _lines.Count;
        while (i > 0 && _lines[i - 1].At > line.At)
        {
            i--;
        }

        _lines.Insert(i, line);
        if (_lines.Count > _capacity)
        {
            _lines.RemoveRange(0, _lines.Count - _capacity);
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        List<IDisposable> attachments;
        lock (_gate)
        {
            _disposed = true;
            attachments = _pods.Values.Select(p => p.Attachment).OfType<IDisposable>().ToList();
        }

        attachments.ForEach(a => a.Dispose());
    }
}
