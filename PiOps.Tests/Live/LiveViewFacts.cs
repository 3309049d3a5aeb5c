using Microsoft.Extensions.Time.Testing;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Components.Live;
using Xunit;

namespace PiOps.Tests.Live;

/// <summary>
/// The one way a component follows live state: a burst of values is one render of the newest, a value that shows
/// nothing new is no render, a clock renders ages, and once disposed nothing reaches the component.
/// </summary>
public sealed class LiveViewFacts
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private sealed record Shown(int Content, int Stamp);

    // A stand-in for a component: its render thread is a lock, and it counts its renders and what each showed.
    private sealed class Component
    {
        private readonly SemaphoreSlim _thread = new(1, 1);

        public List<Shown> Renders { get; } = [];

        public LiveView<Shown>? View { get; set; }

        public LiveHost Host => new(DispatchAsync, () => Renders.Add(View!.Value));

        private async Task DispatchAsync(Func<Task> work)
        {
            await _thread.WaitAsync();
            try
            {
                await work();
            }
            finally
            {
                _thread.Release();
            }
        }
    }

    // A source that calls its subscribers at once, so a test knows what each has been offered.
    private sealed class Source
    {
        private readonly List<Func<Shown, Task>> _handlers = [];

        public int Count => _handlers.Count;

        public IDisposable Add(Func<Shown, Task> handler)
        {
            _handlers.Add(handler);
            return new Unsubscribe(() => _handlers.Remove(handler));
        }

        public void Publish(Shown value)
        {
            foreach (var handler in _handlers.ToList())
            {
                handler(value).GetAwaiter().GetResult();
            }
        }

        private sealed class Unsubscribe(Action action) : IDisposable
        {
            public void Dispose() => action();
        }
    }

    private static (Source Source, Component Page) Open(TimeProvider time, Shown first, Func<Shown, Shown?>? tick = null)
    {
        var source = new Source();
        var page = new Component();
        page.View = new LiveView<Shown>(new(() => first, source.Add), (a, b) => a.Content == b.Content, Interval, time, page.Host,
            tick: tick, tickEvery: TimeSpan.FromSeconds(1));
        return (source, page);
    }

    [Fact]
    public async Task ABurst_IsOneRender_OfTheNewestValue()
    {
        var time = new FakeTimeProvider();
        var (source, page) = Open(time, new(0, 0));
        source.Publish(new(1, 1));
        await Eventually.WaitAsync(() => page.Renders.Count == 1, Bound, "the first value's render");

        // Within the interval after a render: these fold into one trailing render, of the last one.
        for (int i = 2; i <= 20; i++)
        {
            source.Publish(new(i, i));
        }

        Assert.Single(page.Renders);
        time.Advance(Interval);
        await Eventually.WaitAsync(() => page.Renders.Count == 2 && page.Renders[1].Content == 20, Bound,
            $"one render of the newest value; renders: {string.Join(", ", page.Renders)}");
        await page.View!.DisposeAsync();
    }

    [Fact]
    public async Task AValueThatShowsNothingNew_IsNoRender()
    {
        var time = new FakeTimeProvider();
        var (source, page) = Open(time, new(7, 0));
        for (int i = 1; i <= 10; i++)
        {
            // The same content at a new time: what the local runtime's samples look like while nothing changes.
            source.Publish(new(7, i));
        }

        source.Publish(new(8, 11));
        await Eventually.WaitAsync(() => page.Renders.Count == 1, Bound, "the render of the changed value");
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => page.Renders.SequenceEqual([new Shown(8, 11)]), TimeSpan.FromMilliseconds(200),
            "only the changed value rendered");
        await page.View!.DisposeAsync();
    }

    [Fact]
    public async Task TheClock_RendersTheTickedValue_EverySecond()
    {
        var time = new FakeTimeProvider();
        var (_, page) = Open(time, new(1, 0), tick: s => s with { Stamp = s.Stamp + 1 });
        for (int second = 1; second <= 3; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            int expected = second;
            await Eventually.WaitAsync(() => page.Renders.Count == expected, Bound, $"the render of tick {expected}");
        }

        Assert.Equal([1, 2, 3], page.Renders.Select(r => r.Stamp));
        await page.View!.DisposeAsync();
    }

    [Fact]
    public async Task OnceDisposed_NothingReachesTheComponent_AndItLeavesNoSubscription()
    {
        var time = new FakeTimeProvider();
        var (source, page) = Open(time, new(0, 0), tick: s => s with { Stamp = s.Stamp + 1 });
        Assert.Equal(1, source.Count);
        source.Publish(new(1, 1));
        await Eventually.WaitAsync(() => page.Renders.Count == 1, Bound, "the first render");

        await page.View!.DisposeAsync();
        Assert.Equal(0, source.Count);
        source.Publish(new(2, 2));
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.HoldsAsync(() => page.Renders.Count == 1, TimeSpan.FromMilliseconds(200), "no render after disposal");
    }
}
