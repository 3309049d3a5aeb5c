using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Components.Pages;
using PiOps.Web.Configuration;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>A task's page links its trace id to the tracing UI when Dashboard:TraceUrl is set, and shows it plain when not.</summary>
public sealed class TaskTraceLinkFacts : AsyncBunitContext
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";

    private IRenderedComponent<Tasks> RenderTask(string? traceUrl)
    {
        var (_, ops) = this.AddTestServices();
        Services.AddSingleton(Options.Create(new DashboardOptions { TraceUrl = traceUrl }));
        var now = DateTimeOffset.UtcNow;
        ops.Tasks["t-traced"] = new TaskStatusRecord("t-traced", TaskState.Done, 5_000_000, 1, "pi-worker-abc-q9z2m-7-1a2b3c",
            now, now, now, "3.14159245358979323846", 3, null, now) { TraceId = Trace };
        Services.GetRequiredService<NavigationManager>().NavigateTo("tasks?id=t-traced");
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return Render<Tasks>();
    }

    [Fact]
    public void WithATraceUrl_TheTraceIdLinksToTheTracingUi_InANewTab()
    {
        var page = RenderTask("https://jaeger.example/trace/{traceId}");

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=task-trace]")));
        var link = page.Find("[data-testid=task-trace]");
        Assert.Equal($"https://jaeger.example/trace/{Trace}", link.GetAttribute("href"));
        Assert.Equal("_blank", link.GetAttribute("target"));
        Assert.Equal(Trace, link.TextContent.Trim());
    }

    [Fact]
    public void WithoutATraceUrl_TheTraceIdIsShown_AndSaysWhatWouldLinkIt()
    {
        var page = RenderTask(null);

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=task-trace-id]")));
        var id = page.Find("[data-testid=task-trace-id]");
        Assert.Equal(Trace, id.TextContent.Trim());
        Assert.Contains("Dashboard:TraceUrl", id.GetAttribute("title"));
        Assert.Empty(page.FindAll("[data-testid=task-trace]"));
    }
}
