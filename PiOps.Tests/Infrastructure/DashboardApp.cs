using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PiOps.Web.Extensions;

namespace PiOps.Tests.Infrastructure;

/// <summary>The dashboard in this process, on a real Kestrel loopback port, composed exactly as Program.cs does.</summary>
public sealed class DashboardApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, string baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public string BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The workload runtime itself, below the role guard (pages and the API get the guarded one).</summary>
    public PiOps.Web.Workloads.IWorkloadRuntime Workloads =>
        Services.GetRequiredKeyedService<PiOps.Web.Workloads.IWorkloadRuntime>(WorkloadServices.WorkloadBackend);

    /// <summary>The queue actions themselves, below the role guard.</summary>
    public PiOps.Web.Queue.IQueueOperations QueueActions => Services.GetRequiredService<PiOps.Web.Queue.QueueOperations>();

    public HttpClient CreateClient() => new() { BaseAddress = new Uri(BaseAddress), Timeout = TimeSpan.FromSeconds(30) };

    /// <param name="services">Replaces services after the app's own registrations, e.g. the clock with a fake one.</param>
    public static Task<DashboardApp> StartAsync(TestRedisServer server, string queue, IDictionary<string, string?>? extra = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?> { ["Redis:ConnectionString"] = server.Endpoint };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        return StartAsync(queue, settings, services);
    }

    /// <summary>The dashboard in this process with the Redis its <paramref name="extra"/> settings name (Sentinel, for example).</summary>
    public static async Task<DashboardApp> StartAsync(string queue, IDictionary<string, string?> extra, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Queue:QueueName"] = queue,
            ["Queue:HeartbeatTtl"] = "00:00:03",
            ["Dashboard:RecoveryInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
            ["LocalRuntime:Enabled"] = "false",
            // Never a developer's real cluster: Auto would pick up ~/.kube/config. Tests of the cluster mode set it.
            ["Kubernetes:Mode"] = "Local",
        };
        foreach (var (k, v) in extra)
        {
            settings[k] = v;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "PiOps.Web",
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        // "Urls" in the settings binds elsewhere, e.g. an address of a test's own network namespace pair.
        builder.WebHost.UseUrls(settings.TryGetValue("Urls", out var urls) && urls is not null ? urls : "http://127.0.0.1:0");
        builder.AddPiOps();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UsePiOps();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardApp(app, address);
    }

    /// <summary>The dashboard with its local runtime on, its state in <paramref name="dataDirectory"/>, short delays for tests.</summary>
    public static Task<DashboardApp> StartWithLocalRuntimeAsync(TestRedisServer server, string queue, string dataDirectory,
        int initialReplicas, string restartDelay, IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["LocalRuntime:Enabled"] = "true",
            ["LocalRuntime:InitialReplicas"] = initialReplicas.ToString(),
            ["LocalRuntime:RestartDelay"] = restartDelay,
            ["LocalRuntime:GracePeriod"] = "00:00:15",
            ["Embedded:DataDirectory"] = dataDirectory,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        return StartAsync(server, queue, settings, services);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
