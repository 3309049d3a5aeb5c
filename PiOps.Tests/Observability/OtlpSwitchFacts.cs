using Microsoft.Extensions.Configuration;
using PiOps.Shared.Telemetry;
using Xunit;

namespace PiOps.Tests.Observability;

/// <summary>
/// OTLP export is on exactly when the SDK's standard variables name an endpoint (any signal's) and OTEL_SDK_DISABLED
/// is not true; otherwise the dashboard and the worker register no SDK (and nothing listens to their spans).
/// </summary>
public sealed class OtlpSwitchFacts
{
    [Theory]
    [InlineData(null, null, null, false)] // nothing set: off, the book's default
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", null, true)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/v1/traces", null, true)]
    [InlineData("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://loki:4318/v1/logs", null, true)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "  ", null, false)] // blank is not an endpoint
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "true", false)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "TRUE", false)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "false", true)]
    [InlineData("OTEL_SERVICE_NAME", "piops-worker", null, false)] // other variables alone do not turn it on
    public void OtlpIsOn_OnlyWithAnEndpoint_AndNotDisabled(string? key, string? value, string? disabled, bool on)
    {
        var settings = new Dictionary<string, string?>();
        if (key is not null)
        {
            settings[key] = value;
        }

        if (disabled is not null)
        {
            settings["OTEL_SDK_DISABLED"] = disabled;
        }

        Assert.Equal(on, QueueTelemetry.OtlpConfigured(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
    }
}
