using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using PiOps.Shared.Queue;
using PiOps.Shared.Redis;
using PiOps.Shared.Telemetry;
using PiOps.Worker.Configuration;
using PiOps.Worker.Liveness;
using PiOps.Worker.Observability;
using PiOps.Worker.Processing;
using StackExchange.Redis;

namespace PiOps.Worker;

/// <summary>Composition of the worker process: configuration, logging, Redis connections and the task loop.</summary>
public static class WorkerHost
{
    /// <summary>Reads and validates the settings; on errors prints them (one line each) and returns null.</summary>
    public static WorkerOptions? LoadOptions(IConfiguration configuration)
    {
        var o = new WorkerOptions();
        WorkerOptions.Bind(o, configuration);
        var result = new WorkerOptionsValidator().Validate(null, o);
        if (result.Failed)
        {
            foreach (var failure in result.Failures)
            {
                Console.Error.WriteLine($"error: {failure}");
            }

            return null;
        }

        return o;
    }

    public static IConfiguration EnvironmentConfiguration() =>
        new ConfigurationBuilder().AddEnvironmentVariables().Build();

    /// <summary>The queue worker: runs until SIGTERM/SIGINT, or until the queue is drained with COMPLETE_WHEN_EMPTY.</summary>
    public static async Task<int> RunQueueWorkerAsync(WorkerOptions o)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Only OpenTelemetry reads the host's configuration (its standard OTEL_* variables); the worker's own are in o.
        builder.Configuration.AddEnvironmentVariables();
        ConfigureConsole(builder.Logging);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = o.ShutdownTimeout + TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(Options.Create(o));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(BookConsole.Standard);
        builder.Services.AddSingleton(sp => new LivenessFile(o.LivenessFile, sp.GetRequiredService<TimeProvider>()));
        string id = NewWorkerId(o.Host);
        var state = new WorkerState(id, o.Host, TimeProvider.System);
        builder.Services.AddSingleton(state);
        WorkerTelemetry.AddTo(builder, o, state);

        // One shared multiplexer for everything, and one of its own for the blocking pop. Through Sentinel, connecting
        // waits until a primary answers (RedisConnector), told in the worker's own log format.
        using var early = LoggerFactory.Create(ConfigureConsole);
        var connecting = early.CreateLogger("PiOps.Worker.Redis");
        var shared = await RedisConnector.ConnectAsync(() => o.Redis.ToConfigurationOptions($"piops-worker-{id}"),
            line => connecting.LogWarning("{Waiting}", line));
        var blocking = await RedisConnector.ConnectAsync(
            () => o.Redis.ToConfigurationOptions($"piops-worker-{id}-pop", o.PopTimeout + TimeSpan.FromSeconds(10)),
            line => connecting.LogWarning("{Waiting}", line));
        builder.Services.AddSingleton<IConnectionMultiplexer>(shared);
        builder.Services.AddSingleton(new WorkerQueue(shared, blocking, o.Queue, id));
        builder.Services.AddSingleton(sp => new DeadWorkerRecovery(shared, o.Queue, id, sp.GetRequiredService<ILogger<DeadWorkerRecovery>>()));
        builder.Services.AddHostedService<QueueWorkerService>();
        if (o.ParentPid is { } parent)
        {
            builder.Services.AddHostedService(sp => new ParentWatch(parent, sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<ILogger<ParentWatch>>()));
        }

        using var host = builder.Build();
        if (QueueTelemetry.OtlpConfigured(builder.Configuration))
        {
            BookConsole.Standard.Mirror = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(WorkerTelemetry.BookCategory);
        }

        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => BookConsole.Standard.Line("got signal"));
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => BookConsole.Standard.Line("got signal"));
        await host.RunAsync();
        await blocking.CloseAsync();
        await shared.CloseAsync();
        return Environment.ExitCode;
    }

    /// <summary>The worker's log lines: one line each, on standard error (standard output is the book's).</summary>
    private static void ConfigureConsole(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.TimestampFormat = "HH:mm:ss ";
            c.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        logging.Services.Configure<ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    }

    /// <summary>Unique per process: a restarted container keeps its pod name and often its pid, so a random part too.</summary>
    public static string NewWorkerId(string host)
    {
        string safe = new(host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').Take(80).ToArray());
        return $"{safe}-{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 3))}";
    }
}
