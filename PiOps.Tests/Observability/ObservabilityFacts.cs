using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Observability;

/// <summary>
/// OpenTelemetry end to end: the dashboard in this process and real worker processes send OTLP to a receiver in this
/// process; the facts read the traces, metrics and log records it got.
/// </summary>
[Collection(ProcessTelemetry.Name)]
public sealed class ObservabilityFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _queue = TestRedisServer.NewQueueName();
    private OtlpReceiver _otlp = default!;
    private readonly List<WorkerProcess> _workers = [];

    public async Task InitializeAsync() => _otlp = await OtlpReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var w in _workers)
        {
            await w.DisposeAsync();
        }

        await _otlp.DisposeAsync();
    }

    private WorkerProcess StartWorker(string service, params (string Key, string Value)[] extra)
    {
        var env = WorkerProcess.Env(server, _queue, extra);
        foreach (var (k, v) in _otlp.Environment(service))
        {
            env[k] = v;
        }

        var worker = WorkerProcess.Start(env);
        _workers.Add(worker);
        return worker;
    }

    [Fact]
    public async Task Enqueue_ThroughApi_OneTraceHoldsTheRequestTheProducerAndTheWorker_WithMetricsAndLogs()
    {
        var settings = _otlp.Environment("piops-dashboard-test");
        await using var app = await DashboardApp.StartAsync(server, _queue, settings);
        using var http = app.CreateClient();
        int metricsPort = FreePort.Next();
        // No METRICS_HOST: the default (every address) is what the chart's pods use.
        var worker = StartWorker("piops-worker-test", ("METRICS_PORT", metricsPort.ToString()));
        await worker.WaitForLineAsync(l => l.StartsWith("starting"), Bound, "the worker starts");

        var response = await http.PostAsync("/api/tasks",
            new StringContent("""{"iterations": 12000000, "count": 1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, "not a number");

        // The worker's process span ends when the result is stored, and is exported within a batch delay.
        OtlpSpan? process = null;
        await Eventually.WaitAsync(() => (process = _otlp.Spans.FirstOrDefault(s => s.Name == "process " + _queue
                && s.Attributes.GetValueOrDefault("piops.task.iterations") is 12_000_000L)) is not null,
            Bound, () => $"the worker's process span\nspans: {string.Join("\n", _otlp.Spans)}\n{worker.Output}");
        string trace = process!.TraceId;
        // The dashboard exports its spans in its own batches: the producer's may arrive after the worker's.
        await Eventually.WaitAsync(() => _otlp.Spans.Any(s => s.Name == "send " + _queue && s.TraceId == trace), Bound,
            () => $"the producer's span\nspans: {string.Join("\n", _otlp.Spans.Where(s => s.TraceId == trace))}");
        var send = Assert.Single(_otlp.Spans, s => s.Name == "send " + _queue && s.TraceId == trace);
        // The task's record keeps its trace id, for the Tasks page's link to the tracing UI.
        string taskId = (string)process.Attributes["messaging.message.id"]!;
        var record = await TaskStatusRecord.ReadAsync(server.Db, new QueueKeys(_queue), taskId);
        Assert.Equal(trace, record?.TraceId);
        // The HTTP request's server span is the producer's parent (the test's own HttpClient call may precede it).
        await Eventually.WaitAsync(() => _otlp.Spans.Any(s => s.SpanId == send.ParentSpanId), Bound,
            () => $"the request's span\nspans: {string.Join("\n", _otlp.Spans.Where(s => s.TraceId == trace))}");
        var request = _otlp.Spans.First(s => s.SpanId == send.ParentSpanId);
        Assert.Equal(2, request.Kind);
        Assert.Equal("POST /api/tasks", request.Name);
        Assert.Equal("piops-dashboard-test", send.Service);
        Assert.Equal(4, send.Kind);
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.Equal("piops-worker-test", process.Service);
        Assert.Equal(5, process.Kind);

        // The worker's steps are children of its process span, and the Redis calls children of those.
        // A span is exported when it ends, in the worker's batches: a child can arrive a batch before its parent.
        string[] steps = ["receive " + _queue, "compute pi", "settle " + _queue, "EVALSHA mark-processing", "EVALSHA complete-and-take"];
        await Eventually.WaitAsync(() => steps.All(step => _otlp.Spans.Any(s => s.TraceId == trace && s.Name == step)), Bound,
            () => $"the worker's steps and the settle's Redis call\nspans: {string.Join("\n", _otlp.Spans.Where(s => s.TraceId == trace))}");
        var inTrace = _otlp.Spans.Where(s => s.TraceId == trace).ToList();
        foreach (string step in steps[..4])
        {
            Assert.Contains(inTrace, s => s.Name == step && s.ParentSpanId == process.SpanId);
        }

        var settle = Assert.Single(inTrace, s => s.Name == "settle " + _queue);
        Assert.Contains(inTrace, s => s.Name == "EVALSHA complete-and-take" && s.ParentSpanId == settle.SpanId && s.Kind == 3);

        // The book's lines as log records of the process span; stdout keeps them exactly.
        await Eventually.WaitAsync(() => _otlp.Logs.Any(l => l.Body.StartsWith("got task: 12000000") && l.TraceId == trace), Bound,
            () => $"the 'got task' log record\nlogs: {string.Join("\n", _otlp.Logs.Select(l => $"{l.TraceId} {l.Body}"))}");
        var got = _otlp.Logs.First(l => l.Body.StartsWith("got task: 12000000") && l.TraceId == trace);
        Assert.Equal(process.SpanId, got.SpanId);
        // The result's line is exported in the same or a later batch than the "got task" line: waited for too.
        await Eventually.WaitAsync(() => _otlp.Logs.Any(l => l.TraceId == trace && l.SpanId == process.SpanId && l.Body.Contains("3.14159")), Bound,
            () => $"the result's log record\nlogs: {string.Join("\n", _otlp.Logs.Select(l => $"{l.TraceId} {l.SpanId} {l.Body}"))}");
        Assert.Contains(worker.Lines, l => l.StartsWith("got task: 12000000 (id "));
        await worker.WaitForLineAsync(l => l.StartsWith("dead-lettered entry: "), Bound, "the bad entry dead-lettered");

        // Metrics after this known run: one task done, one bad entry failed and dead-lettered, two taken.
        await Eventually.WaitAsync(() =>
                Last("piops.tasks.done", "piops-worker-test") == 1 && Last("piops.tasks.dead_lettered", "piops-worker-test") == 1
                && Last("piops.tasks.failed", "piops-worker-test") == 1 && Last("messaging.client.consumed.messages", "piops-worker-test") == 2
                && Last("piops.pi.iterations", "piops-worker-test") == 12_000_000
                && LastCount("messaging.process.duration", "piops-worker-test") == 1
                && Last("messaging.client.sent.messages", "piops-dashboard-test") == 1
                && Last("piops.queue.tasks.done", "piops-dashboard-test") == 1 && Last("piops.queue.depth", "piops-dashboard-test") == 0
                && Last("piops.queue.dead_letters", "piops-dashboard-test") == 1
                && _otlp.Points.Any(p => p.Name == "piops.pi.rate" && p.Value > 0 && p.Service == "piops-worker-test")
                && _otlp.Points.Any(p => p.Name == "piops.queue.oldest_age" || p.Name == "piops.queue.in_flight"),
            Bound, () => "the metrics of the run:\n" + string.Join("\n", _otlp.Points
                .Where(p => Equals(p.Attributes.GetValueOrDefault("messaging.destination.name"), _queue))
                .GroupBy(p => (p.Service, p.Name)).Select(g => $"{g.Key.Service} {g.Key.Name} = {g.Last().Value} (count {g.Last().Count}, {g.Count()} points)"))
                + $"\nthe dashboard's monitor at {DateTimeOffset.UtcNow:HH:mm:ss.fff}: {Describe(app.Services.GetRequiredService<PiOps.Web.Queue.IQueueState>().Current)}");

        // The same worker's metrics for Prometheus, on its own port.
        using var scrape = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string text = await scrape.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Contains("piops_tasks_done_total{", text);
        Assert.Contains($"messaging_destination_name=\"{_queue}\"", text);
        Assert.Contains("messaging_process_duration_seconds_count", text);
    }

    [Fact]
    public async Task AddTasksCommand_TheCronJobsAddworkJob_StartsTheTracesItsTasksRunIn()
    {
        var env = WorkerProcess.Env(server, _queue);
        foreach (var (k, v) in _otlp.Environment("piops-addwork"))
        {
            env[k] = v;
        }

        await using (var add = WorkerProcess.Start(env, "add-tasks"))
        {
            Assert.Equal(0, await add.WaitForExitAsync(Bound));
        }

        // The command's tracer is disposed before it exits, which sends its span.
        await Eventually.WaitAsync(() => _otlp.Spans.Any(s => s.Name == "send " + _queue), Bound,
            () => $"the add-tasks span\nspans: {string.Join("\n", _otlp.Spans)}");
        var send = Assert.Single(_otlp.Spans, s => s.Name == "send " + _queue && s.Service == "piops-addwork");
        Assert.Equal(4, send.Kind);
        var worker = StartWorker("piops-worker-addwork");
        OtlpSpan[] processes = [];
        await Eventually.WaitAsync(() => (processes = _otlp.Spans.Where(s => s.Name == "process " + _queue).ToArray()).Length == 10,
            Bound, () => $"the ten tasks' process spans\nspans: {string.Join("\n", _otlp.Spans)}\n{worker.Output}");
        Assert.All(processes, p =>
        {
            Assert.Equal(send.TraceId, p.TraceId);
            Assert.Equal(send.SpanId, p.ParentSpanId);
        });
    }

    [Fact]
    public async Task PlainIntegerEntry_FromTheBooksProducer_StartsATraceOfItsOwnInTheWorker()
    {
        // add_tasks.py pushes bare integers: no envelope, so no trace context to join.
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, ["4321", "8765"]);
        var worker = StartWorker("piops-worker-plain");

        OtlpSpan[] processes = [];
        await Eventually.WaitAsync(() => (processes = _otlp.Spans.Where(s => s.Name == "process " + _queue).ToArray()).Length == 2,
            Bound, () => $"the two process spans\nspans: {string.Join("\n", _otlp.Spans)}\n{worker.Output}");
        Assert.All(processes, p => Assert.Equal("", p.ParentSpanId));
        Assert.Equal(2, processes.Select(p => p.TraceId).Distinct().Count());
        Assert.All(processes, p => Assert.Matches("^[0-9a-f]{32}$", p.TraceId));
        Assert.Equal([4321L, 8765L], processes.Select(p => p.Attributes["piops.task.iterations"]).Cast<long>().Order());
        await Eventually.WaitAsync(() => processes.All(p => _otlp.Spans.Any(s => s.Name == "compute pi" && s.ParentSpanId == p.SpanId && s.TraceId == p.TraceId)),
            Bound, () => $"each task's compute span in its own trace\nspans: {string.Join("\n", _otlp.Spans)}");
    }

    [Fact]
    public async Task RecoveredTask_SecondAttemptAndRecovery_JoinTheFirstAttemptsTrace()
    {
        // A trace made up here stands for the producer's; a task of about 3 s (more on a busy machine) to kill a worker in.
        string trace = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        string producerSpan = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 8));
        var task = new TaskEnvelope("t-traced", 10_000_000_000, DateTimeOffset.UtcNow, 1, $"00-{trace}-{producerSpan}-01");
        await server.Db.ListRightPushAsync(new QueueKeys(_queue).Queue, QueueJson.Serialize(task));

        var first = StartWorker("piops-worker-first");
        await first.WaitForLineAsync(l => l.StartsWith("got task: 10000000000 (id t-traced, attempt 1)"), Bound, "the first worker takes the task");
        first.KillHard();
        await first.WaitForExitAsync(Bound);
        var second = StartWorker("piops-worker-second");
        await second.WaitForLineAsync(l => l.StartsWith("recovered 1 task(s)"), Bound, "the second worker recovers the task");

        await Eventually.WaitAsync(() => _otlp.Spans.Any(s => s.TraceId == trace && s.Name == "process " + _queue
                && s.Attributes.GetValueOrDefault("piops.task.attempt") is 2L),
            TimeSpan.FromSeconds(120), () => $"the second attempt's span\nspans: {string.Join("\n", _otlp.Spans.Where(s => s.TraceId == trace))}\n{second.Output}");
        var inTrace = _otlp.Spans.Where(s => s.TraceId == trace).ToList();
        var recover = Assert.Single(inTrace, s => s.Name == "recover " + _queue);
        Assert.Equal(producerSpan, recover.ParentSpanId);
        Assert.Equal("piops-worker-second", recover.Service);
        Assert.Equal("requeued", recover.Attributes["piops.recovery.outcome"]);
        var attempt2 = Assert.Single(inTrace, s => s.Name == "process " + _queue);
        Assert.Equal(producerSpan, attempt2.ParentSpanId);
        Assert.Equal("piops-worker-second", attempt2.Service);
        Assert.Contains(inTrace, s => s.Name == "compute pi" && s.ParentSpanId == attempt2.SpanId);

        await Eventually.WaitAsync(() => Last("piops.tasks.retried", "piops-worker-second") == 1
                && Last("piops.tasks.failed", "piops-worker-second") == 1 && Last("piops.tasks.done", "piops-worker-second") == 1,
            Bound, () => "the second worker's counts: " + string.Join(", ", _otlp.Points.Where(p => p.Service == "piops-worker-second"
                && p.Name.StartsWith("piops.tasks")).GroupBy(p => p.Name).Select(g => $"{g.Key} = {g.Last().Value}")));
    }

    /// <summary>
    /// A worker exports its spans and log records in batches of up to 2,048 (WorkerTelemetry.BatchDefaults), beyond the
    /// SDK's own 512, unless the standard OTEL_BSP_/OTEL_BLRP_ variables say otherwise; then the variable wins.
    /// </summary>
    [Theory]
    [InlineData(null, 512, 2048)]
    [InlineData("100", 99, 100)]
    public async Task Worker_ExportsInBatchesOfItsOwnSize_UnlessTheStandardVariablesSetOne(string? size, int above, int atMost)
    {
        const int tasks = 1_500;
        await TaskLedger.EnqueueAsync(server.Client, _queue, tasks, 1);
        string service = "piops-worker-batches-" + (size ?? "default");
        var env = WorkerProcess.Env(server, _queue);
        foreach (var (k, v) in _otlp.Environment(service))
        {
            env[k] = v;
        }

        // Batches leave when they are full, not on the clock: every span of the run is made well within 5 s.
        env["OTEL_BSP_SCHEDULE_DELAY"] = "5000";
        env["OTEL_BLRP_SCHEDULE_DELAY"] = "5000";
        if (size is not null)
        {
            env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = size;
            env["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = size;
        }

        var worker = WorkerProcess.Start(env);
        _workers.Add(worker);
        await Eventually.WaitAsync(() => _otlp.Spans.Count(s => s.Service == service && s.Name == "process " + _queue) >= tasks
                && _otlp.Logs.Count(l => l.Service == service && l.Body.StartsWith("got task: 1 ")) >= tasks,
            Bound, () => $"every task's process span and log record from {service}\n{worker.Output}");

        foreach (var signal in new[] { "traces", "logs" })
        {
            int largest = _otlp.Batches.Where(b => b.Signal == signal && b.Service == service).Max(b => b.Items);
            Assert.True(largest > above && largest <= atMost,
                $"the largest {signal} batch held {largest}, expected more than {above} and at most {atMost}");
        }
    }

    /// <summary>The latest value a service exported for a metric of this test's queue, or null.</summary>
    private static string Describe(PiOps.Web.Queue.QueueSnapshot s) =>
        $"sampled {s.At:HH:mm:ss.fff}, Redis {(s.RedisAvailable ? "up" : "down: " + s.RedisError)}, depth {s.Depth}, done {s.Totals.Done}, " +
        $"dead letters {s.DeadLetters}, workers {s.WorkersAlive}";

    private double? Last(string name, string service) =>
        _otlp.Points.LastOrDefault(p => p.Name == name && p.Service == service
            && Equals(p.Attributes.GetValueOrDefault("messaging.destination.name"), _queue))?.Value;

    private long? LastCount(string name, string service) =>
        _otlp.Points.LastOrDefault(p => p.Name == name && p.Service == service
            && Equals(p.Attributes.GetValueOrDefault("messaging.destination.name"), _queue))?.Count;
}
