using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web.Components.Pages;
using PiOps.Web.Security;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>Every page's actions are disabled for a Viewer and enabled for an Operator; the server refuses anyway (AccessFacts).</summary>
public sealed class RoleFacts
{
    public static TheoryData<string, string> Actions => new()
    {
        { nameof(Enqueue), "enqueue" }, { nameof(Enqueue), "enqueue-book" },
        { nameof(QueueView), "pause" }, { nameof(QueueView), "purge" },
        { nameof(DeadLetters), "retry-all" }, { nameof(DeadLetters), "delete-all" },
        { nameof(Jobs), "job-create" }, { nameof(CronJobs), "cron-create" }, { nameof(Autoscaling), "hpa-save" },
        { nameof(Workers), "scale" },
    };

    private static readonly Dictionary<string, Type> Pages = new()
    {
        [nameof(Enqueue)] = typeof(Enqueue), [nameof(QueueView)] = typeof(QueueView), [nameof(DeadLetters)] = typeof(DeadLetters),
        [nameof(Jobs)] = typeof(Jobs), [nameof(CronJobs)] = typeof(CronJobs), [nameof(Autoscaling)] = typeof(Autoscaling),
        [nameof(Workers)] = typeof(Workers),
    };

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Viewer_FindsTheAction_Disabled(string page, string action) =>
        Assert.True(await IsDisabledAsync(Roles.Viewer, page, action), $"{action} on {page} should be disabled for a Viewer");

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Operator_FindsTheAction_Enabled(string page, string action) =>
        Assert.False(await IsDisabledAsync(Roles.Operator, page, action), $"{action} on {page} should be enabled for an Operator");

    private static async Task<bool> IsDisabledAsync(string role, string page, string action)
    {
        await using var ctx = new BunitContext();
        var (state, _) = ctx.AddTestServices(role);
        ctx.Services.AddSingleton<IWorkloadRuntime>(new FakeWorkloadRuntime());
        // Something to purge and to retry, so only the role can disable the buttons.
        state.Push(FakeQueueState.Snapshot(depth: 5, dead: 2));
        await PiOps.Tests.Infrastructure.Eventually.WaitAsync(() => state.Current.Depth == 5, TimeSpan.FromSeconds(5), "the fake queue state to take the snapshot");

        var rendered = ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudBlazor.MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent(1, Pages[page]);
            b.CloseComponent();
        }));

        return rendered.Find($"[data-testid={action}]").HasAttribute("disabled");
    }
}
