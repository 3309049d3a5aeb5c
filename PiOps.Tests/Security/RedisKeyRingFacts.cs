using System.Xml.Linq;
using Microsoft.Extensions.Logging.Abstractions;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Security;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// The Data Protection key ring in Redis keeps pages working while Redis is away: the ring read last is used, and a key
/// made meanwhile is saved once Redis answers, where another replica finds it.
/// </summary>
public sealed class RedisKeyRingFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private readonly RedisKey _key = TestRedisServer.NewQueueName() + ":dataprotection";

    private static XElement Key(string id) => new("key", new XAttribute("id", id));

    [Fact]
    public async Task AKeyMadeWhileRedisIsAway_IsUsedHere_AndSavedWhenRedisAnswers()
    {
        // Nothing listens on this port: every command fails as it does while Redis is down.
        var away = ConfigurationOptions.Parse($"127.0.0.1:{FreePort.Next()}");
        away.AbortOnConnectFail = false;
        away.BacklogPolicy = BacklogPolicy.FailFast;
        await using var down = await ConnectionMultiplexer.ConnectAsync(away);
        bool redisBack = false;
        var ring = new RedisKeyRing(() => (redisBack ? server.Client : down).GetDatabase(), _key, NullLogger<RedisKeyRing>.Instance);

        Assert.Empty(ring.GetAllElements());
        ring.StoreElement(Key("made-while-away"), "k1");
        Assert.Equal("made-while-away", Assert.Single(ring.GetAllElements()).Attribute("id")!.Value);
        Assert.Equal(0, await server.Db.ListLengthAsync(_key));

        redisBack = true;
        var read = ring.GetAllElements();

        Assert.Equal("made-while-away", Assert.Single(read).Attribute("id")!.Value);
        var replica = new RedisKeyRing(() => server.Db, _key, NullLogger<RedisKeyRing>.Instance);
        Assert.Equal("made-while-away", Assert.Single(replica.GetAllElements()).Attribute("id")!.Value);
    }

    [Fact]
    public void WhileRedisIsAway_TheRingReadLast_IsUsed()
    {
        bool away = false;
        var ring = new RedisKeyRing(() => away
                ? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is away")
                : server.Db,
            _key, NullLogger<RedisKeyRing>.Instance);
        ring.StoreElement(Key("k1"), "k1");
        Assert.Single(ring.GetAllElements());

        away = true;

        Assert.Equal("k1", Assert.Single(ring.GetAllElements()).Attribute("id")!.Value);
    }
}
