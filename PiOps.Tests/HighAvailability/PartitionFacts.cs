using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Tests.Resilience;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// A worker cut off from Redis for real (its own network namespace, the link taken down) longer than its heartbeat lives
/// is taken for dead, and another worker runs its task again. When the link comes back, the first worker's late result
/// is refused by the fence: the task has run twice (at least once) but has exactly one recorded result.
/// </summary>
[Collection(HeavyLanes.Second)]
public sealed class PartitionFacts(RedisServer server, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    // About 3 s of pi on a quiet core (0.3 ns a term), longer on a busy one: the cut comes while the first worker computes.
    private const long LongTask = 10_000_000_000;

    [Fact]
    public async Task WorkerCutOffLongerThanItsHeartbeat_ItsTaskRunsAgain_AndItsLateResultIsRefused_OneResultKept()
    {
        string queue = TestRedisServer.NewQueueName();
        var keys = new QueueKeys(queue);
        await using var other = await NetworkNamespace.CreateAsync();
        // Redis also listens on this side of the pair, where the cut-off worker reaches it.
        await server.Client.GetServer(server.Endpoint).ExecuteAsync("CONFIG", "SET", "bind", $"127.0.0.1 {other.HostAddress}");
        try
        {
            var env = WorkerProcess.Env(server, queue);
            env["REDIS_HOST"] = other.HostAddress.ToString();
            await using var cutOff = WorkerProcess.Start(other, env);
            await cutOff.WaitForLineAsync(l => l.StartsWith("starting (worker "), TimeSpan.FromSeconds(60), "the cut-off worker starting");
            var ledger = await TaskLedger.EnqueueAsync(server.Client, queue, 1, LongTask);
            string id = ledger.Ids[0];
            await cutOff.WaitForLineAsync(l => l.Contains($"(id {id}, attempt 1)"), TimeSpan.FromSeconds(60), "the cut-off worker taking the task");
            await Eventually.WaitAsync(async () => await StatusFieldAsync(keys, id, "worker") != "", TimeSpan.FromSeconds(30),
                $"task {id}'s status naming the cut-off worker");
            string cutOffId = await StatusFieldAsync(keys, id, "worker");

            await other.CutAsync();
            output.WriteLine($"cut {cutOffId} off at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
            await using var survivor = WorkerProcess.Start(WorkerProcess.Env(server, queue));
            await Eventually.WaitAsync(async () => await StatusFieldAsync(keys, id, "state") == "done", TimeSpan.FromMinutes(2),
                () => $"the survivor recovering and finishing task {id}\nsurvivor:\n{survivor.Output}");
            Assert.Equal("2", await StatusFieldAsync(keys, id, "attempt"));
            string keptBy = await StatusFieldAsync(keys, id, "worker");
            Assert.NotEqual(cutOffId, keptBy);
            Assert.Contains(survivor.Lines, l => l.Contains($"task(s) of stopped worker {cutOffId}"));

            await other.HealAsync();
            output.WriteLine($"healed at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
            await cutOff.WaitForLineAsync(l => l.Contains($"task {id} attempt 1: result refused"), TimeSpan.FromMinutes(2),
                "the cut-off worker's late result refused");

            output.WriteLine("cut-off worker:\n" + cutOff.Output + "\nsurvivor:\n" + survivor.Output);
            var db = server.Db;
            Assert.Equal(1, (long)await db.HashGetAsync(keys.Stats, "fenced"));
            Assert.Equal(1, (long)await db.HashGetAsync(keys.Stats, "done"));
            var results = (await db.ListRangeAsync(keys.Results)).Select(r => QueueJson.Deserialize<TaskResult>(r!)!).ToArray();
            var result = Assert.Single(results, r => r.Id == id);
            Assert.Equal(keptBy, result.Worker);
            Assert.Equal(2, result.Attempt);
            // The record was not overwritten by the late result either.
            Assert.Equal(keptBy, await StatusFieldAsync(keys, id, "worker"));
            Assert.Equal("2", await StatusFieldAsync(keys, id, "attempt"));
            Assert.False(cutOff.HasExited, cutOff.Output);
        }
        finally
        {
            await server.Client.GetServer(server.Endpoint).ExecuteAsync("CONFIG", "SET", "bind", "127.0.0.1");
        }
    }

    /// <summary>A field of the task's record as a hash would hold it, whichever way it is held.</summary>
    private async Task<string> StatusFieldAsync(QueueKeys keys, string id, string field) =>
        await TaskStatusRecord.ReadAsync(server.Db, keys, id) is not { } r ? "" : field switch
        {
            "state" => r.State.ToString().ToLowerInvariant(),
            "worker" => r.Worker ?? "",
            "attempt" => r.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, "not a field this test reads"),
        };
}
