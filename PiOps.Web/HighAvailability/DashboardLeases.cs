using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;

namespace PiOps.Web.HighAvailability;

/// <summary>
/// The leases of the duties that one dashboard replica at a time must run: each duty asks for its lease by name
/// (<see cref="For"/>) and runs only while <see cref="RedisLease.IsHeld"/>; this service takes and renews every lease
/// asked for, and gives them up when the dashboard stops. Registered before the duties' services, so it starts before
/// them (the first attempt is made before they run) and stops after them.
/// </summary>
public sealed class DashboardLeases(RedisConnection redis, IOptions<QueueOptions> queue, IOptions<LeaseOptions> options,
    ILogger<DashboardLeases> log) : BackgroundService
{
    /// <summary>The dashboard's recovery of dead workers' tasks (workers recover too, each on its own).</summary>
    public const string DeadWorkerRecovery = "recovery";

    /// <summary>The local runtime's autoscaler.</summary>
    public const string LocalAutoscaler = "local-autoscaler";

    /// <summary>The local runtime's CronJob triggers.</summary>
    public const string LocalCronJobs = "local-cronjobs";

    /// <summary>A duty's name in the operator's words.</summary>
    public static string Describe(string duty) => duty switch
    {
        DeadWorkerRecovery => "dead-worker recovery",
        LocalAutoscaler => "the local autoscaler",
        LocalCronJobs => "CronJob triggers",
        _ => duty,
    };

    private static readonly TimeSpan FirstAttempt = TimeSpan.FromSeconds(3);

    private readonly LeaseOptions _o = options.Value;
    private readonly DashboardKeys _keys = new(queue.Value.QueueName);
    private readonly ConcurrentDictionary<string, RedisLease> _leases = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _starting;

    /// <summary>This process's id in every lease it holds: host, process id and a random part (pids repeat across pods).</summary>
    public string Holder { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The lease of <paramref name="duty"/>, held from the next turn on (at once when asked before start).</summary>
    public RedisLease For(string duty)
    {
        var lease = _leases.GetOrAdd(duty, d => new RedisLease(() => redis.Multiplexer.GetDatabase(), _keys.Lease(d), d, Holder, _o.Ttl,
            // The real monotonic clock, whatever TimeProvider the dashboard runs on: it is measured against a TTL in Redis.
            TimeProvider.System));
        Wake();
        return lease;
    }

    /// <summary>Every lease asked for, by duty.</summary>
    public IReadOnlyList<RedisLease> All => [.. _leases.Values.OrderBy(l => l.Duty, StringComparer.Ordinal)];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The duties' services were made with the hosted services, so their leases are known: try for them once before
        // the duties start, so a lone dashboard runs them from its first turn.
        _starting = true;
        await Task.WhenAny(Task.WhenAll(_leases.Values.Select(TurnAsync)), Task.Delay(FirstAttempt, cancellationToken));
        _starting = false;
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // When each lease's next turn is due, in Environment.TickCount64 milliseconds (monotonic).
        var due = new Dictionary<RedisLease, long>();
        while (!stoppingToken.IsCancellationRequested)
        {
            long now = Environment.TickCount64;
            var ready = _leases.Values.Where(l => due.GetValueOrDefault(l) <= now).ToList();
            var waits = await Task.WhenAll(ready.Select(TurnAsync));
            for (int i = 0; i < ready.Count; i++)
            {
                due[ready[i]] = now + (long)waits[i].TotalMilliseconds;
            }

            long next = due.Count == 0 ? now + (long)_o.RenewInterval.TotalMilliseconds : due.Values.Min();
            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(0, next - Environment.TickCount64)), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    // One lease's turn, with a log line when this process takes or loses it; returns when to try again.
    private async Task<TimeSpan> TurnAsync(RedisLease lease)
    {
        bool before = lease.IsHeld;
        TimeSpan next;
        try
        {
            next = await lease.HoldAsync(_o.RenewInterval);
        }
        catch (Exception ex) when (PiOps.Shared.Redis.RedisFailure.Is(ex))
        {
            log.LogWarning("The {Duty} lease could not be taken or renewed: {Message}; this dashboard stops the duty once the " +
                           "lease's {Ttl} s may have run out", lease.Duty, ex.Message, lease.Ttl.TotalSeconds);
            next = TimeSpan.FromSeconds(1) < _o.RenewInterval ? TimeSpan.FromSeconds(1) : _o.RenewInterval;
        }

        if (lease.IsHeld != before)
        {
            // Taking every lease at start is what a lone dashboard always does: not news. A takeover later is.
            log.Log(lease.IsHeld ? _starting ? LogLevel.Debug : LogLevel.Information : LogLevel.Warning,
                lease.IsHeld ? "This dashboard ({Holder}) now runs {Duty}: it holds the lease" : "This dashboard ({Holder}) no longer runs {Duty}: it lost the lease",
                Holder, lease.Duty);
        }

        return next;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Give up what is held, so another replica takes over at once rather than after the TTL.
        foreach (var lease in _leases.Values.Where(l => l.IsHeld))
        {
            try
            {
                await lease.ReleaseAsync();
            }
            catch (Exception ex) when (PiOps.Shared.Redis.RedisFailure.Is(ex))
            {
                log.LogWarning("The {Duty} lease could not be given up ({Message}); it lapses after {Ttl} s", lease.Duty, ex.Message, lease.Ttl.TotalSeconds);
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }
}
