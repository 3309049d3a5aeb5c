using Xunit;

namespace PiOps.Tests.Observability;

/// <summary>
/// Facts that read a dashboard's OpenTelemetry metrics run alone, after every parallel collection. OpenTelemetry's
/// MeterProvider listens by meter name across the whole process, and it treats same-named instruments of several
/// meters as one metric stream: when another test disposes its dashboard (and with it that dashboard's meter), the
/// shared stream is marked disposed and dropped after its next export, so the live dashboard's gauges stop reaching
/// the receiver (seen in a stressed run: the queue gauges stayed at their first values for 60 s). A dashboard is alone
/// in its process in production; here it is made alone for the length of these facts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessTelemetry
{
    public const string Name = "Process-wide telemetry";
}
