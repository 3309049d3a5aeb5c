using System.Collections.Concurrent;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;
using GarnetServer = PiOps.Tests.Infrastructure.GarnetServer;

namespace PiOps.Tests.Queue;

public sealed class ScriptIsolationFacts_Redis(RedisServer server) : ScriptIsolationFacts<RedisServer>(server);

/// <summary>The embedded Garnet as the dashboard starts it: without its Lua transaction mode this fails.</summary>
public sealed class ScriptIsolationFacts_Garnet(GarnetServer server) : ScriptIsolationFacts<GarnetServer>(server);

/// <summary>
/// Every script of the protocol reads and then writes (is the entry still in flight? then store it); that is only safe
/// if no other client's command runs in between. Four clients at once run scripts that would lose updates or hand one
/// entry to two takers if it did.
/// </summary>
public abstract class ScriptIsolationFacts<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : TestRedisServer
{
    private const string Increment = "local v = tonumber(redis.call('GET', KEYS[1])); redis.call('SET', KEYS[1], v + 1); return v";

    private const string TakeTen = """
        local got = redis.call('LRANGE', KEYS[1], 0, 9)
        if #got > 0 then redis.call('LTRIM', KEYS[1], #got, -1) end
        return got
        """;

    [Fact]
    public async Task ScriptsOfFourClientsAtOnce_LoseNoUpdate_AndHandNoEntryToTwoTakers()
    {
        string counter = "{iso}:n-" + Guid.NewGuid().ToString("N");
        string list = "{iso}:l-" + Guid.NewGuid().ToString("N");
        await server.Db.StringSetAsync(counter, 0);
        await server.Db.ListRightPushAsync(list, Enumerable.Range(0, 20_000).Select(i => (RedisValue)i).ToArray());
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ConnectionMultiplexer.ConnectAsync(server.Client.Configuration)));
        var taken = new ConcurrentBag<string>();
        try
        {
            await Task.WhenAll(clients.Select(c => Task.Run(async () =>
            {
                var db = c.GetDatabase();
                for (int i = 0; i < 2_000; i++)
                {
                    await db.ScriptEvaluateAsync(Increment, [counter]);
                    foreach (var v in (RedisValue[])(await db.ScriptEvaluateAsync(TakeTen, [list]))!)
                    {
                        taken.Add(v!);
                    }
                }
            })));
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }

        Assert.Equal(8_000, (long)await server.Db.StringGetAsync(counter));
        Assert.Equal(0, await server.Db.ListLengthAsync(list));
        Assert.Equal(20_000, taken.Count);
        Assert.Equal(20_000, taken.Distinct().Count());
    }
}
