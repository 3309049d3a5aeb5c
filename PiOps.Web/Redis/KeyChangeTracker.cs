using PiOps.Shared.Redis;
using StackExchange.Redis;

namespace PiOps.Web.Redis;

/// <summary>
/// Tells when keys the dashboard read have changed, by Redis' own key tracking (server-assisted client-side caching,
/// Redis 6 and later): <c>CLIENT TRACKING ON REDIRECT</c> on a connection of its own, whose reads the server remembers,
/// and a subscription to <c>__redis__:invalidate</c> on which the server names each remembered key once, at its next
/// change. A key is remembered again when it is read again (<see cref="Database"/>), so the messages never outnumber the
/// reads, and an idle queue costs no round trip at all. The dashboard's other connection is not tracked: its reads of
/// heartbeats would wake it at every beat.
/// <para>Before it says yes, <see cref="EnsureOnAsync"/> proves it: it reads a key of its own and changes it through
/// another connection, and waits for the server to say so. A server that refuses (Garnet, a cluster, an ACL without
/// <c>client|tracking</c>) or says yes but stays silent is refused for good, and the caller polls instead.</para>
/// </summary>
public sealed class KeyChangeTracker : IAsyncDisposable
{
    private static readonly RedisChannel Invalidations = RedisChannel.Literal("__redis__:invalidate");

    /// <summary>How long the server has to report the proof's change before it is taken to have stayed silent.</summary>
    private static readonly TimeSpan ProofTimeout = TimeSpan.FromSeconds(5);

    private readonly ConnectionMultiplexer _mux;
    private readonly IConnectionMultiplexer _other;
    private readonly string _name;
    private readonly RedisKey _proofKey;
    private TaskCompletionSource _changed = NewSignal();
    private TaskCompletionSource? _proof;
    // Set when either connection was lost or restored: tracking lives and dies with them, so it is set up again.
    private volatile bool _stale = true;

    private KeyChangeTracker(ConnectionMultiplexer mux, IConnectionMultiplexer other, string name, RedisKey proofKey)
    {
        _mux = mux;
        _other = other;
        _name = name;
        _proofKey = proofKey;
        _mux.ConnectionFailed += (_, _) => Lose();
        _mux.ConnectionRestored += (_, _) => Lose();
    }

    /// <summary>Reads through this (and only these reads) are tracked.</summary>
    public IDatabase Database => _mux.GetDatabase();

    /// <summary>Why the server was refused, once it was; null while tracking may work.</summary>
    public string? Refusal { get; private set; }

    /// <summary>
    /// A connection of its own for <paramref name="settings"/>' Redis, named <c>piops-dashboard-changes-…</c> so it can
    /// be told from the others in <c>CLIENT LIST</c>; <paramref name="other"/> is the dashboard's own connection, which
    /// writes the proof.
    /// </summary>
    public static async Task<KeyChangeTracker> ConnectAsync(RedisSettings settings, IConnectionMultiplexer other, RedisKey proofPrefix)
    {
        string name = "piops-dashboard-changes-" + Guid.NewGuid().ToString("N")[..12];
        var options = RedisConnection.Options(settings, name);
        // For CLIENT LIST (IServer.ClientListAsync), which StackExchange.Redis counts as an admin command; this connection
        // runs nothing but what this class sends.
        options.AllowAdmin = true;
        var mux = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            var tracker = new KeyChangeTracker(mux, other, name, proofPrefix.Append(name));
            await mux.GetSubscriber().SubscribeAsync(Invalidations, (_, key) => tracker.OnInvalidated(key));
            return tracker;
        }
        catch
        {
            // Not connected yet, or the subscription timed out (a loaded machine): the caller tries again later with a
            // new connection, so this one must not stay behind, reconnecting for the process's life.
            await mux.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The next change (or loss of the connections) after this call: take it before reading, so a change during the read
    /// is not missed.
    /// </summary>
    public Task NextChange() => Volatile.Read(ref _changed).Task;

    /// <summary>
    /// Makes sure the server tracks this connection's reads and tells the subscription: at once when it already does,
    /// else by setting it up (and proving it) again. False when it cannot now (Redis away, or refused: see
    /// <see cref="Refusal"/>).
    /// </summary>
    public async Task<bool> EnsureOnAsync()
    {
        if (Refusal is not null)
        {
            return false;
        }

        if (!_stale)
        {
            return true;
        }

        _stale = false;
        try
        {
            var server = _mux.GetServers().FirstOrDefault(s => s.IsConnected && !s.IsReplica);
            if (server is null)
            {
                _stale = true;
                return false;
            }

            if (server.ServerType == ServerType.Cluster)
            {
                return Refuse("the server is a cluster node (tracking is set up for a single primary)");
            }

            var db = _mux.GetDatabase();
            var subscriber = (await server.ClientListAsync()).FirstOrDefault(c => c.Name == _name && c.Flags.HasFlag(ClientFlags.PubSubSubscriber));
            if (subscriber is null)
            {
                // The subscription's connection is not up yet (or was just lost): the next call tries again.
                _stale = true;
                return false;
            }

            await db.ExecuteAsync("CLIENT", "TRACKING", "ON", "REDIRECT", subscriber.Id);
            return await ProveAsync(db);
        }
        catch (RedisServerException ex) when (!Transient(ex.Message))
        {
            return Refuse(ex.Message);
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            _stale = true;
            return false;
        }
    }

    /// <summary>Errors a server gives for a while (loading its data, busy with a script, no primary): not a refusal.</summary>
    private static bool Transient(string error) =>
        error.StartsWith("LOADING", StringComparison.Ordinal) || error.StartsWith("BUSY", StringComparison.Ordinal)
        || error.StartsWith("MASTERDOWN", StringComparison.Ordinal) || error.StartsWith("TRYAGAIN", StringComparison.Ordinal);

    /// <summary>Reads the proof key (tracked from then on), changes it through the other connection, waits to be told.</summary>
    private async Task<bool> ProveAsync(IDatabase db)
    {
        var proof = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _proof, proof);
        await db.StringGetAsync(_proofKey);
        await _other.GetDatabase().StringSetAsync(_proofKey, "1", TimeSpan.FromMinutes(1));
        try
        {
            await proof.Task.WaitAsync(ProofTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            // Redis away in between loses the message too: only a server that answered throughout is refused for it.
            if (_stale || !_mux.IsConnected)
            {
                _stale = true;
                return false;
            }

            return Refuse($"CLIENT TRACKING was accepted, but no invalidation came within {ProofTimeout.TotalSeconds:0} s of a change");
        }
        finally
        {
            Volatile.Write(ref _proof, null);
            await _other.GetDatabase().KeyDeleteAsync(_proofKey, CommandFlags.FireAndForget);
        }
    }

    private bool Refuse(string why)
    {
        Refusal = why;
        return false;
    }

    private void OnInvalidated(RedisValue key)
    {
        // A null key is the server's "forget everything" (FLUSHALL, FLUSHDB): a change like any other.
        if (!key.IsNull && (string?)key == (string?)_proofKey)
        {
            Volatile.Read(ref _proof)?.TrySetResult();
            return;
        }

        Signal();
    }

    private void Lose()
    {
        _stale = true;
        Signal();
    }

    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _mux.CloseAsync();
        _mux.Dispose();
    }
}
