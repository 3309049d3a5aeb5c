using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Pages;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>
/// A failure nobody planned for (not an OperatorActionException: a bug, a library's own exception) must not end the
/// operator's page. Blazor ends the circuit when an exception escapes an event handler; the pages run their actions
/// through ActionRunner, which turns it into a sentence and keeps the page working.
/// </summary>
public sealed class UnexpectedFailureFacts : AsyncBunitContext
{
    private readonly FakeQueueOperations _ops;
    private readonly FakeWorkloadRuntime _runtime = new();

    public UnexpectedFailureFacts()
    {
        (_, _ops) = this.AddTestServices();
        Services.AddSingleton<IWorkloadRuntime>(_runtime);
    }

    [Fact]
    public void Enqueue_ThatThrowsUnexpectedly_SaysSo_AndTheFormStillWorks()
    {
        _ops.NextEnqueueThrows = new InvalidOperationException("The message timed out in the backlog.");
        var page = this.RenderWithProviders<Enqueue>();
        page.Act(() => page.Find("input[data-testid=iterations]").Input("250"));
        page.Act(() => page.Find("input[data-testid=count]").Input("3"));

        page.Act(() => page.Find("[data-testid=enqueue]").Click());

        page.WaitForAssertion(() => Assert.Contains(
            "Could not enqueue: The message timed out in the backlog. This failure was not expected, so the action may or may not have taken effect",
            page.Find(".mud-snackbar").TextContent));
        Assert.Contains("(InvalidOperationException)", page.Find(".mud-snackbar").TextContent);
        Assert.Empty(_ops.Calls);

        // The same page, the same input: the circuit lives on, and the second click enqueues.
        page.Act(() => page.Find("[data-testid=enqueue]").Click());
        page.WaitForAssertion(() => Assert.Contains("3 task(s) enqueued", page.Find("[data-testid=last-outcome]").TextContent));
        Assert.Equal(["enqueue 250 x3 Envelope"], _ops.Calls);
    }

    [Fact]
    public void CronJobSuspend_ThatThrowsUnexpectedly_SaysWhatFailed_AndTheRowStillWorks()
    {
        _runtime.CronJobs.Add(new CronJobView(CronJobSpec.BookAddWork, DateTimeOffset.UtcNow, null, null, [], null));
        _runtime.NextSuspendThrows = new HttpRequestException("Connection refused (10.96.0.1:443)");
        var page = this.RenderWithProviders<CronJobs>();

        page.Act(() => page.Find("[data-testid=cron-suspend]").Click());

        page.WaitForAssertion(() => Assert.Contains("Could not suspend the CronJob addwork: Connection refused (10.96.0.1:443).",
            page.Find(".mud-snackbar").TextContent));
        Assert.Empty(_runtime.Suspended);

        page.Act(() => page.Find("[data-testid=cron-suspend]").Click());
        page.WaitForAssertion(() => Assert.Equal([("addwork", true)], _runtime.Suspended));
    }
}
