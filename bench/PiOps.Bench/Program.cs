using PiOps.Bench;

return args.FirstOrDefault() switch
{
    null or "pi" => PiBenchmark.Run(args.Skip(1).ToArray()),
    var other => Usage(other),
};

static int Usage(string what)
{
    Console.Error.WriteLine($"unknown benchmark '{what}'. Benchmarks: pi");
    return 2;
}
