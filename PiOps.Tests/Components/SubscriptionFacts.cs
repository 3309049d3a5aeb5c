using System.Runtime.CompilerServices;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor;
using PiOps.Shared.Redis;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Pages;
using PiOps.Web.Configuration;
using PiOps.Web.Logs;
using PiOps.Web.Redis;
using PiOps.Web.Workloads;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>
/// Every page and layout control that follows the shared state leaves nothing subscribed once it is closed: the queue
/// monitor and the runtimes are singletons, so a leak grows with every visit for as long as the process runs.
/// </summary>
public sealed class SubscriptionFacts(RedisServer redis) : IClassFixture<RedisServer>
{
    public static TheoryData<string> Components() =>
    [
        nameof(Overview), nameof(QueueView), nameof(Tasks), nameof(DeadLetters), nameof(Workers), nameof(Jobs),
        nameof(CronJobs), nameof(Autoscaling), nameof(Logs), nameof(RedisBanner), nameof(RedisChip), nameof(ClusterBanner),
        nameof(DeploymentCard), nameof(LiveAnnouncer),
    ];

    [Theory]
    [MemberData(nameof(Components))]
    public async Task ClosingAComponent_LeavesTheSubscriberCountsAsTheyWereBeforeItOpened(string name)
    {
        var type = typeof(Overview).Assembly.GetTypes().Single(t => t.Name == name && typeof(IComponent).IsAssignableFrom(t));
        await using var ctx = new BunitContext();
        var (state, _) = ctx.AddTestServices();
        var runtime = new FakeWorkloadRuntime();
        ctx.Services.AddSingleton<IWorkloadRuntime>(runtime);
        ctx.Services.AddSingleton<IWorkloadBackends>(new SingleWorkloadBackend(runtime));
        ctx.Services.AddScoped<WorkloadSelection>();
        ctx.Services.AddSingleton<IPodLogSource>(new SilentLogSource());
        ctx.Services.AddSingleton(Options.Create(new LogOptions()));
        ctx.Services.AddSingleton(NullLogger<LogTailer>.Instance);
        ctx.Services.AddSingleton<LogTailer>();
        ctx.Services.AddSingleton(_ => new RedisConnection(Options.Create(new RedisSettings { Host = "127.0.0.1", Port = redis.Port }),
            Options.Create(new EmbeddedOptions()), new Env(), NullLoggerFactory.Instance));
        var selection = ctx.Services.GetRequiredService<WorkloadSelection>();
        (int Queue, int Completions, int Workloads, int Switches) Counts() =>
            (state.Subscribers, state.CompletionSubscribers, runtime.Subscribers, selection.Subscribers);
        var before = Counts();
        // As in the dashboard: interactive server components (the live region subscribes only when interactive).
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));

        var rendered = ctx.Render<ContainerFragment>(p => p.AddChildContent(builder =>
        {
            builder.OpenComponent<MudPopoverProvider>(0);
            builder.CloseComponent();
            builder.OpenComponent<MudDialogProvider>(1);
            builder.CloseComponent();
            builder.OpenComponent<MudSnackbarProvider>(2);
            builder.CloseComponent();
            builder.OpenComponent(3, type);
            builder.CloseComponent();
        }));
        // Open: the component follows something, once (pages that load first subscribe when their load is done).
        rendered.WaitForAssertion(() => Assert.NotEqual(before, Counts()), TimeSpan.FromSeconds(10));
        var open = Counts();

        await ctx.DisposeComponentsAsync();

        Assert.True(before == Counts(), $"{name} left subscriptions behind: {before} before, {open} open, {Counts()} closed.");
        Assert.True(open.Queue - before.Queue <= 1 && open.Workloads - before.Workloads <= 2 && open.Completions - before.Completions <= 1,
            $"{name} holds more subscriptions than it follows sources: {before} before, {open} open.");
    }

    private sealed class SilentLogSource : IPodLogSource
    {
        public async IAsyncEnumerable<LogLine> FollowAsync(PodAddress pod, int tailLines,
            [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            yield break;
        }
    }

    private sealed class Env : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";

        public string ApplicationName { get; set; } = "PiOps.Web";

        public string ContentRootPath { get; set; } = Path.GetTempPath();

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
            new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
