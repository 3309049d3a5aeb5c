using System.Text.RegularExpressions;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Pages;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>
/// A live page's buttons keep their click handlers while the page re-renders. Each render that gives a button a new
/// event handler id retires the old one, and on a busy server Blazor dropped clicks sent with the retired id (the
/// stressed suite's Create and Delete that did nothing; the dashboard's Debug log said "There is no event handler
/// associated with this event"). MudButton made a new handler on every render; <c>ActionButton</c> keeps it.
/// </summary>
public sealed class StableHandlerFacts : AsyncBunitContext
{
    private readonly FakeWorkloadRuntime _runtime = new();
    private readonly FakeQueueState _state;

    public StableHandlerFacts()
    {
        (_state, _) = this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Fact]
    public void Jobs_AgesTick_ButtonsKeepTheirHandlers()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-10);
        _runtime.Jobs.Add(new JobView(JobSpec.Templates[0].Spec with { Name = "jobworker" }, 2, 0, 0, null, null, started, null, []));
        var page = this.RenderWithProviders<Jobs>();
        page.WaitForAssertion(() => Assert.Contains("jobworker", page.Markup));
        var before = Handlers(page.Markup);
        string age = AgeOf(page);

        // The running Job's age ticks every second: the page re-renders with its rows and its form.
        page.WaitForAssertion(() => Assert.NotEqual(age, AgeOf(page)), TimeSpan.FromSeconds(10));

        AssertKept(before, Handlers(page.Markup), expectedAtLeast: 8);
    }

    [Fact]
    public void Queue_NewSnapshot_ButtonsKeepTheirHandlers()
    {
        _state.Push(FakeQueueState.Snapshot(depth: 5));
        var page = this.RenderWithProviders<QueueView>();
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=purge]").HasAttribute("disabled")));
        var before = Handlers(page.Markup);
        string shown = page.Markup;

        _state.Push(FakeQueueState.Snapshot(depth: 7));
        page.WaitForAssertion(() => Assert.NotEqual(shown, page.Markup));

        AssertKept(before, Handlers(page.Markup), expectedAtLeast: 3);
    }

    private static string AgeOf(IRenderedComponent<ContainerFragment> page) =>
        page.Find("[data-testid=jobs-table] tbody tr td[data-label=Age]").TextContent.Trim();

    /// <summary>Each button's click handler id, by the button's test id, label or text.</summary>
    private static Dictionary<string, string> Handlers(string markup)
    {
        var found = new Dictionary<string, string>();
        foreach (Match m in Regex.Matches(markup, @"<(button|a)\b([^>]*)>([^<]*)"))
        {
            string attributes = m.Groups[2].Value;
            var id = Regex.Match(attributes, "blazor:onclick=\"(\\d+)\"");
            if (!id.Success)
            {
                continue;
            }

            string name = Regex.Match(attributes, "data-testid=\"([^\"]+)\"") is { Success: true } t ? t.Groups[1].Value
                : Regex.Match(attributes, "aria-label=\"([^\"]+)\"") is { Success: true } l ? l.Groups[1].Value
                : m.Groups[3].Value.Trim();
            found.TryAdd(name, id.Groups[1].Value);
        }

        return found;
    }

    private static void AssertKept(Dictionary<string, string> before, Dictionary<string, string> after, int expectedAtLeast)
    {
        Assert.True(before.Count >= expectedAtLeast, $"only {before.Count} buttons found: {string.Join(", ", before.Keys)}");
        var replaced = before.Where(b => after.TryGetValue(b.Key, out var now) && now != b.Value)
            .Select(b => $"{b.Key}: {b.Value} -> {after[b.Key]}").ToList();
        Assert.True(replaced.Count == 0, $"{replaced.Count} of {before.Count} handlers replaced by a re-render:\n{string.Join("\n", replaced)}");
    }
}
