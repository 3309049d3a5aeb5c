using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PiOps.Tests.Observability;

/// <summary>
/// An OpenTelemetry collector's OTLP/HTTP receiver in the test process: POST /v1/traces, /v1/metrics and /v1/logs with
/// protobuf bodies on a loopback port, decoded by field number as the OTLP protobuf definitions
/// (opentelemetry-proto: trace/v1, metrics/v1, logs/v1, common/v1) number them. It keeps what the processes under
/// test send, for the tests to look through.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The base address for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces and so on).</summary>
    public string Endpoint { get; }

    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();

    /// <summary>Export requests received, and their bytes.</summary>
    public int Requests { get; private set; }

    public long Bytes { get; private set; }

    public ConcurrentQueue<OtlpPoint> Points { get; } = new();

    public ConcurrentQueue<OtlpLog> Logs { get; } = new();

    /// <summary>Each decoded export request: its signal ("traces", "logs"), the sender's service.name and how many spans or records it held.</summary>
    public ConcurrentQueue<(string Signal, string Service, int Items)> Batches { get; } = new();

    /// <summary>The standard variables that send a process's telemetry here, quickly (batches every 200 ms).</summary>
    public Dictionary<string, string?> Environment(string serviceName) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_SERVICE_NAME"] = serviceName,
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
    };

    /// <param name="decode">False to read and drop every request, as a collector elsewhere costs this machine nothing more.</param>
    public static async Task<OtlpReceiver> StartAsync(bool decode = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            receiver!.Requests++;
            receiver.Bytes += bytes.Length;
            switch (decode ? signal : "")
            {
                case "traces":
                    receiver!.ReadTraces(bytes);
                    break;
                case "metrics":
                    receiver!.ReadMetrics(bytes);
                    break;
                case "logs":
                    receiver!.ReadLogs(bytes);
                    break;
                case "" when !decode:
                    break;
                default:
                    return Results.NotFound();
            }

            // An empty Export*ServiceResponse: everything accepted.
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new OtlpReceiver(app, address);
        return receiver;
    }

    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KeyValue}, 2: ScopeSpans{2: Span}}}
    private void ReadTraces(byte[] request)
    {
        var items = Items(request).ToList();
        NoteBatch("traces", items);
        foreach (var (resource, s) in items)
        {
            var status = Proto.Messages(s, 15).FirstOrDefault();
            Spans.Enqueue(new OtlpSpan(
                Convert.ToHexStringLower(Proto.Bytes(s, 1)), Convert.ToHexStringLower(Proto.Bytes(s, 2)),
                Convert.ToHexStringLower(Proto.Bytes(s, 4)), Proto.String(s, 5), (int)Proto.Varint(s, 6),
                Attributes(s, 9), resource, status is null ? 0 : (int)Proto.Varint(status, 3)));
        }
    }

    // ExportMetricsServiceRequest{1: ResourceMetrics{1: Resource, 2: ScopeMetrics{2: Metric{1: name, 5: Gauge, 7: Sum,
    // 9: Histogram}}}}; Gauge and Sum {1: NumberDataPoint{7: attributes, 4: as_double, 6: as_int}}; Histogram
    // {1: HistogramDataPoint{9: attributes, 4: count, 5: sum}}.
    private void ReadMetrics(byte[] request)
    {
        foreach (var (resource, m) in Items(request))
        {
            string name = Proto.String(m, 1);
            foreach (var p in Proto.Messages(m, 5).Concat(Proto.Messages(m, 7)).SelectMany(data => Proto.Messages(data, 1)))
            {
                double value = Proto.Has(p, 4) ? BitConverter.Int64BitsToDouble((long)Proto.Varint(p, 4)) : (long)Proto.Varint(p, 6);
                Points.Enqueue(new OtlpPoint(name, Attributes(p, 7), resource, value, null));
            }

            foreach (var p in Proto.Messages(m, 9).SelectMany(data => Proto.Messages(data, 1)))
            {
                Points.Enqueue(new OtlpPoint(name, Attributes(p, 9), resource,
                    BitConverter.Int64BitsToDouble((long)Proto.Varint(p, 5)), (long)Proto.Varint(p, 4)));
            }
        }
    }

    // ExportLogsServiceRequest{1: ResourceLogs{1: Resource, 2: ScopeLogs{2: LogRecord{5: body, 6: attributes,
    // 9: trace_id, 10: span_id}}}}
    private void ReadLogs(byte[] request)
    {
        var items = Items(request).ToList();
        NoteBatch("logs", items);
        foreach (var (resource, l) in items)
        {
            var body = Proto.Messages(l, 5).FirstOrDefault();
            Logs.Enqueue(new OtlpLog(body is null ? "" : AnyValue(body)?.ToString() ?? "",
                Convert.ToHexStringLower(Proto.Bytes(l, 9)), Convert.ToHexStringLower(Proto.Bytes(l, 10)),
                Attributes(l, 6), resource));
        }
    }

    private void NoteBatch(string signal, List<(Dictionary<string, object?> Resource, byte[] Item)> items)
    {
        if (items.Count > 0)
        {
            Batches.Enqueue((signal, items[0].Resource.GetValueOrDefault("service.name") as string ?? "", items.Count));
        }
    }

    // The three exports nest alike: request{1: Resource*{1: Resource, 2: Scope*{2: item}}}. Each item with its service.
    private static IEnumerable<(Dictionary<string, object?> Resource, byte[] Item)> Items(byte[] request) =>
        from r in Proto.Messages(request, 1)
        let resource = Resource(r)
        from scope in Proto.Messages(r, 2)
        from item in Proto.Messages(scope, 2)
        select (resource, item);

    private static Dictionary<string, object?> Resource(byte[] parent) =>
        Proto.Messages(parent, 1).FirstOrDefault() is { } r ? Attributes(r, 1) : [];

    // KeyValue{1: key, 2: AnyValue}
    private static Dictionary<string, object?> Attributes(byte[] message, int field)
    {
        var result = new Dictionary<string, object?>();
        foreach (var kv in Proto.Messages(message, field))
        {
            result[Proto.String(kv, 1)] = Proto.Messages(kv, 2).FirstOrDefault() is { } v ? AnyValue(v) : null;
        }

        return result;
    }

    // AnyValue{1: string, 2: bool, 3: int, 4: double}
    private static object? AnyValue(byte[] v) =>
        Proto.Has(v, 1) ? Proto.String(v, 1)
        : Proto.Has(v, 2) ? Proto.Varint(v, 2) != 0
        : Proto.Has(v, 3) ? (long)Proto.Varint(v, 3)
        : Proto.Has(v, 4) ? BitConverter.Int64BitsToDouble((long)Proto.Varint(v, 4))
        : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The protobuf wire format, as far as OTLP needs it: varints, fixed 32/64-bit values, length-delimited fields.</summary>
    private static class Proto
    {
        private static IEnumerable<(int Field, ulong Number, byte[]? Bytes)> Fields(byte[] message)
        {
            int at = 0;
            while (at < message.Length)
            {
                ulong key = ReadVarint(message, ref at);
                int field = (int)(key >> 3);
                switch ((int)(key & 7))
                {
                    case 0:
                        yield return (field, ReadVarint(message, ref at), null);
                        break;
                    case 1:
                        yield return (field, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(at, 8)), null);
                        at += 8;
                        break;
                    case 2:
                        int length = (int)ReadVarint(message, ref at);
                        yield return (field, 0, message.AsSpan(at, length).ToArray());
                        at += length;
                        break;
                    case 5:
                        yield return (field, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(at, 4)), null);
                        at += 4;
                        break;
                    default:
                        throw new InvalidDataException($"wire type {key & 7} of field {field} is not OTLP's");
                }
            }
        }

        private static ulong ReadVarint(byte[] b, ref int at)
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte x = b[at++];
                value |= (ulong)(x & 0x7f) << shift;
                if (x < 0x80)
                {
                    return value;
                }
            }
        }

        public static IEnumerable<byte[]> Messages(byte[] message, int field) =>
            Fields(message).Where(f => f.Field == field && f.Bytes is not null).Select(f => f.Bytes!);

        public static byte[] Bytes(byte[] message, int field) => Messages(message, field).FirstOrDefault() ?? [];

        public static string String(byte[] message, int field) => Encoding.UTF8.GetString(Bytes(message, field));

        public static bool Has(byte[] message, int field) => Fields(message).Any(f => f.Field == field);

        public static ulong Varint(byte[] message, int field) => Fields(message).FirstOrDefault(f => f.Field == field).Number;
    }
}

/// <param name="Kind">1 internal, 2 server, 3 client, 4 producer, 5 consumer.</param>
/// <param name="Status">0 unset, 1 ok, 2 error.</param>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    Dictionary<string, object?> Attributes, Dictionary<string, object?> Resource, int Status)
{
    public string? Service => Resource.GetValueOrDefault("service.name") as string;

    public override string ToString() => $"{Service} {Name} trace {TraceId} span {SpanId} parent {ParentSpanId}";
}

/// <param name="Count">A histogram point's count; null for sums and gauges.</param>
public sealed record OtlpPoint(string Name, Dictionary<string, object?> Attributes, Dictionary<string, object?> Resource,
    double Value, long? Count)
{
    public string? Service => Resource.GetValueOrDefault("service.name") as string;
}

public sealed record OtlpLog(string Body, string TraceId, string SpanId, Dictionary<string, object?> Attributes,
    Dictionary<string, object?> Resource)
{
    public string? Service => Resource.GetValueOrDefault("service.name") as string;
}
