using PiOps.Bench;

return args.FirstOrDefault() switch
{
    null or "pi" => PiBenchmark.Run(args.Skip(1).ToArray()),
    "enqueue" => await EnqueueBenchmark.RunAsync(args.Skip(1).ToArray()),
    "viewers" => await ViewersBenchmark.RunAsync(args.Skip(1).ToArray()),
    "page-cost" => await PageCostBenchmark.RunAsync(args.Skip(1).ToArray()),
    "quickstart" => await QuickstartBenchmark.RunAsync(args.Skip(1).ToArray()),
    "shots" => await ShotsCommand.RunAsync(args.Skip(1).ToArray()),
    "page-latency" => await PageLatencyBenchmark.RunAsync(args.Skip(1).ToArray()),
    "cancel" => await CancelBenchmark.RunAsync(args.Skip(1).ToArray()),
    "logs" => await LogsBenchmark.RunAsync(args.Skip(1).ToArray()),
    "throughput" => await ThroughputBenchmark.RunAsync(args.Skip(1).ToArray()),
    "tracing" => await TracingBenchmark.RunAsync(args.Skip(1).ToArray()),
    "kills" => await ResilienceBenchmarks.KillsAsync(args.Skip(1).ToArray()),
    "redis-restart" => await ResilienceBenchmarks.RedisRestartAsync(args.Skip(1).ToArray()),
    "scale-down" => await ResilienceBenchmarks.ScaleDownAsync(args.Skip(1).ToArray()),
    "producers" => await ResilienceBenchmarks.ProducersAsync(args.Skip(1).ToArray()),
    "failover" => await HighAvailabilityBenchmarks.FailoverAsync(args.Skip(1).ToArray()),
    "reshard" => await HighAvailabilityBenchmarks.ReshardAsync(args.Skip(1).ToArray()),
    "partitions" => await HighAvailabilityBenchmarks.PartitionsAsync(args.Skip(1).ToArray()),
    "two-dashboards" => await HighAvailabilityBenchmarks.TwoDashboardsAsync(args.Skip(1).ToArray()),
    var other => Usage(other),
};

static int Usage(string what)
{
    Console.Error.WriteLine($"unknown benchmark '{what}'. Benchmarks: pi, enqueue, viewers, page-cost, throughput, tracing, kills, redis-restart, scale-down, producers, failover, reshard, partitions, two-dashboards, logs, quickstart, page-latency, cancel; and shots (screenshots of every page)");
    return 2;
}
