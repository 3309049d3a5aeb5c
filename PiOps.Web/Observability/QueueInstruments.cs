using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Shared.Telemetry;
using PiOps.Web.Queue;

namespace PiOps.Web.Observability;

/// <summary>
/// The queue's state as OpenTelemetry instruments, per queue, read from the shared monitor's latest sample (no Redis
/// reads of their own): depth, in flight, oldest age, dead letters, live workers, and the stats hash's totals.
/// </summary>
public sealed class QueueInstruments : IHostedService, IDisposable
{
    private readonly Meter _meter;

    public QueueInstruments(IQueueState monitor, IMeterFactory meters, IOptions<QueueOptions> queue)
    {
        _meter = meters.Create(QueueTelemetry.Name);
        var tags = QueueTelemetry.QueueTags(queue.Value.QueueName).ToArray();
        QueueSnapshot? Sample() => monitor.Current is { RedisAvailable: true } s ? s : null;
        IEnumerable<Measurement<long>> Long(Func<QueueSnapshot, long> read) =>
            Sample() is { } s ? [new Measurement<long>(read(s), tags)] : [];

        _meter.CreateObservableGauge("piops.queue.depth", () => Long(s => s.Depth), "{task}", "Tasks waiting in the queue.");
        _meter.CreateObservableGauge("piops.queue.in_flight", () => Long(s => s.InFlight), "{task}",
            "Tasks taken by workers and not yet stored.");
        _meter.CreateObservableGauge("piops.queue.oldest_age",
            () => Sample() is { OldestAge: { } age } ? [new Measurement<double>(age.TotalSeconds, tags)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the task at the head of the queue.");
        _meter.CreateObservableGauge("piops.queue.dead_letters", () => Long(s => s.DeadLetters), "{task}", "Entries in the dead letters.");
        _meter.CreateObservableGauge("piops.queue.workers", () => Long(s => s.WorkersAlive), "{worker}", "Workers with a live heartbeat.");
        _meter.CreateObservableCounter("piops.queue.tasks.enqueued", () => Long(s => s.Totals.Enqueued), "{task}",
            "Tasks enqueued by PiOps producers (the queue's stats hash).");
        _meter.CreateObservableCounter("piops.queue.tasks.done", () => Long(s => s.Totals.Done), "{task}",
            "Tasks stored, by any worker (the queue's stats hash).");
        _meter.CreateObservableCounter("piops.queue.tasks.failed", () => Long(s => s.Totals.Failed), "{task}",
            "Entries dead-lettered, by any worker or recoverer (the queue's stats hash).");
        _meter.CreateObservableCounter("piops.queue.tasks.recovered", () => Long(s => s.Totals.Recovered), "{task}",
            "Tasks of stopped workers put back for another attempt (the queue's stats hash).");
        _meter.CreateObservableCounter("piops.queue.tasks.fenced", () => Long(s => s.Totals.Fenced), "{task}",
            "Late results refused because their task had been recovered for another attempt (the queue's stats hash).");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _meter.Dispose();
}
