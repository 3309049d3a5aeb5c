using System.Threading.Channels;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using PiOps.Shared.Queue;
using PiOps.Web.Queue;

namespace PiOps.Tests.Components;

public static class ComponentTestServices
{
    /// <summary>The one shared setup for component tests: loose JS interop, MudBlazor services, fakes of our interfaces.</summary>
    /// <param name="role">The signed-in user's role: Admin unless a test is about what others may do.</param>
    public static (FakeQueueState State, FakeQueueOperations Ops) AddTestServices(this BunitContext ctx, string role = PiOps.Web.Security.Roles.Admin)
    {
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        var auth = ctx.AddAuthorization();
        auth.SetAuthorized("tester");
        auth.SetRoles(role);
        ctx.Services.AddMudServices(o => o.SnackbarConfiguration.ShowTransitionDuration = 0);
        var state = new FakeQueueState();
        var ops = new FakeQueueOperations();
        ctx.Services.AddSingleton<IQueueState>(state);
        ctx.Services.AddSingleton<IQueueOperations>(ops);
        ctx.Services.AddSingleton(TimeProvider.System);
        ctx.Services.AddScoped<PiOps.Web.Components.Controls.Announcer>();
        ctx.Services.AddScoped<PiOps.Web.Components.Controls.ActionRunner>();
        ctx.Services.AddScoped<PiOps.Web.Components.Live.LiveViews>();
        // Pages that read the workloads without acting on them (the Overview's health line); tests about workloads add their own.
        ctx.Services.AddSingleton<PiOps.Web.Workloads.IWorkloadRuntime>(new FakeWorkloadRuntime());
        return (state, ops);
    }

    /// <summary>Renders <typeparamref name="T"/> with the providers MudBlazor needs for dialogs and popovers.</summary>
    public static IRenderedComponent<ContainerFragment> RenderWithProviders<T>(this BunitContext ctx) where T : IComponent
    {
        // Pages run as interactive server components, as in the dashboard (set here: every service is registered by now).
        ctx.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        return ctx.Render<ContainerFragment>(p => p.AddChildContent(builder =>
        {
            builder.OpenComponent<MudPopoverProvider>(0);
            builder.CloseComponent();
            builder.OpenComponent<MudDialogProvider>(1);
            builder.CloseComponent();
            builder.OpenComponent<MudSnackbarProvider>(2);
            builder.CloseComponent();
            builder.OpenComponent<T>(3);
            builder.CloseComponent();
        }));
    }

    /// <summary>
    /// Finds an element and acts on it in one turn of the renderer. Live pages render on their own (a new snapshot, the
    /// ages' one-second tick); between a bare Find and Click such a render replaces the element's handler, and the click
    /// lands on one that no longer exists (the dashboard's buttons keep theirs, see StableHandlerFacts; its fields do not).
    /// </summary>
    public static void Act<T>(this IRenderedComponent<T> cut, Action action) where T : IComponent =>
        cut.InvokeAsync(action).GetAwaiter().GetResult();
}

/// <summary>
/// A bUnit context disposed by xunit asynchronously: MudBlazor's services are only IAsyncDisposable, so the synchronous
/// Dispose must not run them.
/// </summary>
public abstract class AsyncBunitContext : BunitContext, Xunit.IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    async Task Xunit.IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        // Disposed through IAsyncLifetime.
    }
}

/// <summary>A plain container to render several components side by side.</summary>
public sealed class ContainerFragment : ComponentBase
{
    [Parameter]
    public RenderFragment? ChildContent { get; set; }

    protected override void BuildRenderTree(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder builder) =>
        builder.AddContent(0, ChildContent);
}

/// <summary>The live state, driven by a channel: tests push snapshots, a pump delivers them to subscribers.</summary>
public sealed class FakeQueueState : IQueueState, IDisposable
{
    private readonly Channel<QueueSnapshot> _snapshots = Channel.CreateUnbounded<QueueSnapshot>();
    private readonly List<Func<QueueSnapshot, Task>> _subscribers = [];
    private readonly List<Func<TaskResult, Task>> _completionSubscribers = [];
    private readonly CancellationTokenSource _cts = new();

    public FakeQueueState()
    {
        _ = Task.Run(async () =>
        {
            await foreach (var s in _snapshots.Reader.ReadAllAsync(_cts.Token))
            {
                foreach (var sub in _subscribers.ToArray())
                {
                    await sub(s);
                }
            }
        });
    }

    public QueueSnapshot Current { get; private set; } = Snapshot(0);

    public int Subscribers => _subscribers.Count;

    public int CompletionSubscribers => _completionSubscribers.Count;

    /// <summary>
    /// The snapshot is current at once (a page rendered after this call reads it), and subscribers hear of it in order.
    /// Setting it only when the pump delivers it let a page read the old one and subscribe just after the delivery,
    /// and then never hear of the new one (seen on a loaded machine).
    /// </summary>
    public void Push(QueueSnapshot snapshot)
    {
        Current = snapshot;
        _snapshots.Writer.TryWrite(snapshot);
    }

    /// <summary>Watches held now (pages watching the queue live).</summary>
    public int Watchers { get; private set; }

    public IDisposable Watch()
    {
        Watchers++;
        return new Unwatch(this);
    }

    private sealed class Unwatch(FakeQueueState state) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (!_done)
            {
                _done = true;
                state.Watchers--;
            }
        }
    }

    public static QueueSnapshot Snapshot(long depth, long dead = 0, bool available = true, bool paused = false) => QueueSnapshot.Empty with
    {
        At = DateTimeOffset.UtcNow,
        RedisAvailable = available,
        RedisError = available ? null : "Redis at 127.0.0.1:1 is not answering: connection refused",
        Depth = depth,
        DeadLetters = dead,
        Paused = paused,
    };

    public IDisposable Subscribe(Func<QueueSnapshot, Task> onSnapshot)
    {
        _subscribers.Add(onSnapshot);
        return new Unsub(() => _subscribers.Remove(onSnapshot));
    }

    public IDisposable SubscribeCompletions(Func<TaskResult, Task> onCompleted)
    {
        _completionSubscribers.Add(onCompleted);
        return new Unsub(() => _completionSubscribers.Remove(onCompleted));
    }

    public void Dispose() => _cts.Cancel();

    private sealed class Unsub(Action a) : IDisposable
    {
        public void Dispose() => a();
    }
}

/// <summary>Records the actions asked for; validation is the real one.</summary>
public sealed class FakeQueueOperations : IQueueOperations
{
    public List<string> Calls { get; } = [];

    /// <summary>What the page asked to be written to the audit trail besides its actions.</summary>
    public List<string> Recorded { get; } = [];

    public Task RecordAsync(string action, string parameters, bool succeeded, string? outcome)
    {
        Recorded.Add($"{action} {(succeeded ? "done" : "not done")}: {outcome}");
        return Task.CompletedTask;
    }

    public long QueueLength { get; set; }

    public QueueOptions Queue { get; } = new();

    public int MaxBatch => 1_000_000;

    public Dictionary<string, string[]> Validate(string? iterations, string? count) =>
        EnqueueValidation.Validate(iterations, count, Queue.MaxIterations, MaxBatch);

    /// <summary>Thrown by the next enqueue, once: a failure nobody planned for (a bug, a library's own exception).</summary>
    public Exception? NextEnqueueThrows { get; set; }

    public async Task<EnqueueOutcome> EnqueueAsync(long iterations, int count, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (NextEnqueueThrows is { } ex)
        {
            NextEnqueueThrows = null;
            throw ex;
        }

        Calls.Add($"enqueue {iterations} x{count} {format}");
        // Ids as the producer makes them: one batch, numbered from 0.
        return new EnqueueOutcome(count, [.. Enumerable.Range(0, count).Select(i => $"bfake-{i}")], count, []);
    }

    public Task<EnqueueOutcome> EnqueueLikeTheBookAsync(EntryFormat format)
    {
        Calls.Add("enqueue-book");
        return Task.FromResult(new EnqueueOutcome(10, [], 10, []));
    }

    public Task<EnqueueOutcome> EnqueueManyAsync(IReadOnlyList<long> tasks, EntryFormat format, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Calls.Add($"enqueue-many {tasks.Count}");
        return Task.FromResult(new EnqueueOutcome(tasks.Count, [], tasks.Count, tasks));
    }

    public Task<QueuePage> PeekAsync(QueueEnd end, int offset, int count) =>
        Task.FromResult(new QueuePage(end, offset, QueueLength, []));

    public Task<long> PurgeAsync(long expected)
    {
        Calls.Add($"purge {expected}");
        return Task.FromResult(expected);
    }

    public Task SetPausedAsync(bool paused)
    {
        Calls.Add(paused ? "pause" : "resume");
        return Task.CompletedTask;
    }

    /// <summary>The task records a lookup finds, by id; none unless a test puts one here.</summary>
    public Dictionary<string, TaskStatusRecord> Tasks { get; } = [];

    public Task<TaskStatusRecord?> GetTaskAsync(string id) => Task.FromResult(Tasks.GetValueOrDefault(id));

    public Task<IReadOnlyList<TaskResult>> RecentResultsAsync(int count) => Task.FromResult<IReadOnlyList<TaskResult>>([]);

    public List<DeadLetterItem> DeadLetters { get; } = [];

    public Task<DeadLetterPage> DeadLettersAsync(int offset, int count) =>
        Task.FromResult(new DeadLetterPage(offset, DeadLetters.Count, DeadLetters.Skip(offset).Take(count).ToList()));

    public Task<string?> RetryDeadLetterAsync(string record, long? correctedIterations = null)
    {
        Calls.Add($"retry {record} {correctedIterations}");
        return Task.FromResult<string?>(correctedIterations is null ? null : "t-corrected");
    }

    public Task<(int Retried, int Left)> RetryAllDeadLettersAsync()
    {
        Calls.Add("retry-all");
        return Task.FromResult((0, 0));
    }

    public Task DeleteDeadLetterAsync(string record)
    {
        Calls.Add($"delete {record}");
        return Task.CompletedTask;
    }

    public Task<long> DeleteAllDeadLettersAsync(long expected)
    {
        Calls.Add($"delete-all {expected}");
        return Task.FromResult(expected);
    }
}
