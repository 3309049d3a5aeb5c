using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using PiOps.Worker.Configuration;

namespace PiOps.Worker.Observability;

/// <summary>
/// Serves the worker's Prometheus text at http://METRICS_HOST:METRICS_PORT/metrics on a minimal Kestrel, the
/// OpenTelemetry exporter meant for production (its HttpListener sibling is for the inner loop only, and .NET's
/// managed HttpListener throws from Start when a scrape arrives while it starts, dotnet/corefx#35191, which stopped
/// workers). Kestrel binds a socket and then accepts: an early scrape waits or is refused, and the worker lives.
/// </summary>
internal sealed class MetricsEndpoint(MeterProvider meters, string host, int port) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Empty: no configuration sources (ASPNETCORE_URLS of the pod cannot move the port), no logging of its own.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls($"http://{host}:{port}");
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meters, predicate: null, path: "/metrics",
            configureBranchedPipeline: null, optionsName: null);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException(
                $"METRICS_PORT {port} on METRICS_HOST {host} could not be opened: {e.Message} Choose a free port, or unset METRICS_PORT.", e);
        }

        _app = app;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _app?.DisposeAsync() ?? ValueTask.CompletedTask;
}
