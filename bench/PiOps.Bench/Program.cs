using PiOps.Bench;

return args.FirstOrDefault() switch
{
    null or "pi" => PiBenchmark.Run(args.Skip(1).ToArray()),
    "enqueue" => await EnqueueBenchmark.RunAsync(args.Skip(1).ToArray()),
    "viewers" => await ViewersBenchmark.RunAsync(args.Skip(1).ToArray()),
    "throughput" => await ThroughputBenchmark.RunAsync(args.Skip(1).ToArray()),
    var other => Usage(other),
};

static int Usage(string what)
{
    Console.Error.WriteLine($"unknown benchmark '{what}'. Benchmarks: pi, enqueue, viewers, throughput");
    return 2;
}
