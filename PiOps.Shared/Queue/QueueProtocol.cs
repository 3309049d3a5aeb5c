using StackExchange.Redis;

namespace PiOps.Shared.Queue;

/// <summary>
/// The version of the queue protocol the workers in use agree on, kept in <see cref="QueueKeys.Protocol"/> (absent: 1).
/// 1: a task's result is recorded in its own status hash. 2: the results of a producer's batch are recorded in one hash
/// for the batch (<see cref="QueueKeys.BatchResults"/>), which a process of an earlier version does not read: its
/// dashboard would show such a task as not done. So the recoverers, which read every registered worker's heartbeat
/// anyway, raise it only when every one of them announces 2, and lower it as soon as one announces less (a rollback, or
/// an old worker joining). A registered worker without a heartbeat is dead or starting: it neither raises nor lowers.
/// docs/queue-protocol.md, "Protocol versions".
/// </summary>
public static class QueueProtocol
{
    /// <summary>The version this build speaks: it reads results recorded either way, and records them per batch when the key says 2.</summary>
    public const int Current = 2;

    /// <summary>
    /// The version the key should say, given the versions the registered workers other than the caller announce (the
    /// caller speaks <see cref="Current"/>; null for a worker without a heartbeat); null when it should stay as it is.
    /// </summary>
    public static int? Agreed(IEnumerable<int?> others)
    {
        int agreed = Current;
        bool unknown = false;
        foreach (int? speaks in others)
        {
            if (speaks is { } v)
            {
                agreed = Math.Min(agreed, v);
            }
            else
            {
                unknown = true;
            }
        }

        return agreed < Current ? agreed : unknown ? null : agreed;
    }

    /// <summary>The version the queue's key says (absent, or not a number: 1), as the store script reads it.</summary>
    public static async Task<int> ReadAsync(IDatabaseAsync db, QueueKeys keys) =>
        int.TryParse((await db.StringGetAsync(keys.Protocol)).ToString(), out int v) ? v : 1;

    /// <summary>Sets the queue's version: 1 is the key's absence, which every earlier version's scripts assume.</summary>
    public static Task WriteAsync(IDatabaseAsync db, QueueKeys keys, int version) =>
        version > 1 ? db.StringSetAsync(keys.Protocol, version) : db.KeyDeleteAsync(keys.Protocol);
}
