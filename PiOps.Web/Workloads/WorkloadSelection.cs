using PiOps.Web.Utils;

namespace PiOps.Web.Workloads;

/// <summary>
/// The runtimes a user can choose between: on a cluster one per configured namespace (the default first), else the
/// only one. Singletons: choosing never starts a watch or a process.
/// </summary>
public interface IWorkloadBackends
{
    /// <summary>The namespaces to choose from, the default first; fewer than two means there is no choice to offer.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>The runtime of a namespace of <see cref="Names"/>; null: the default.</summary>
    IWorkloadRuntime Get(string? name);
}

/// <summary>One runtime and nothing to choose: the local runtime, or none.</summary>
public sealed class SingleWorkloadBackend(IWorkloadRuntime runtime) : IWorkloadBackends
{
    public IReadOnlyList<string> Names => [];

    public IWorkloadRuntime Get(string? name) => runtime;
}

/// <summary>
/// Which namespace a circuit (or a request) works in: the default until the user chooses another. Scoped, so each
/// open page keeps its own choice; the guarded runtime resolves its backend through it.
/// </summary>
public sealed class WorkloadSelection(IWorkloadBackends backends)
{
    private readonly Subscribers<IWorkloadRuntime> _changed = new();

    public IReadOnlyList<string> Names => backends.Names;

    /// <summary>The namespace chosen; null where there is no choice.</summary>
    public string? Name { get; private set; } = backends.Names.FirstOrDefault();

    public IWorkloadRuntime Backend => backends.Get(Name);

    /// <summary>Switches to another namespace of <see cref="Names"/>; anything else is refused with a sentence.</summary>
    public Task SelectAsync(string name)
    {
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            throw new OperatorActionException(Names.Count == 0
                ? $"There is no namespace to choose here: the dashboard runs on the {Backend.Description}."
                : $"The dashboard does not operate namespace \"{name}\": choose one of {string.Join(", ", Names)} (Kubernetes:Namespaces).");
        }

        if (name == Name)
        {
            return Task.CompletedTask;
        }

        Name = name;
        _changed.Publish(Backend, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return Task.CompletedTask;
    }

    /// <summary>Called with the new backend after each switch. Dispose to stop.</summary>
    public IDisposable OnChanged(Func<IWorkloadRuntime, Task> onChanged) => _changed.Add(onChanged);

    /// <summary>How many follow the switches now.</summary>
    public int Subscribers => _changed.Count;

    /// <summary>
    /// Follows whatever the selected backend publishes, moving to the new backend on a switch: <paramref name="subscribe"/>
    /// is called on each backend selected (null: nothing to follow there), <paramref name="switched"/> once after each
    /// switch. Dispose to stop both.
    /// </summary>
    public IDisposable Follow(Func<IWorkloadRuntime, IDisposable?> subscribe, Func<IWorkloadRuntime, Task> switched) =>
        new Following(this, subscribe, switched);

    private sealed class Following : IDisposable
    {
        private readonly object _gate = new();
        private readonly Func<IWorkloadRuntime, IDisposable?> _subscribe;
        private readonly IDisposable _switches;
        private IDisposable? _current;
        private bool _disposed;

        public Following(WorkloadSelection selection, Func<IWorkloadRuntime, IDisposable?> subscribe, Func<IWorkloadRuntime, Task> switched)
        {
            _subscribe = subscribe;
            Attach(selection.Backend);
            _switches = selection.OnChanged(backend => Attach(backend) ? switched(backend) : Task.CompletedTask);
        }

        // False once disposed: nothing is followed, and nothing is said, after that.
        private bool Attach(IWorkloadRuntime backend)
        {
            lock (_gate)
            {
                _current?.Dispose();
                _current = _disposed ? null : _subscribe(backend);
                return !_disposed;
            }
        }

        public void Dispose()
        {
            _switches.Dispose();
            lock (_gate)
            {
                _disposed = true;
                _current?.Dispose();
                _current = null;
            }
        }
    }
}
