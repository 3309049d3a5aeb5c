namespace PiOps.Web.Queue;

/// <summary>Lua for the dashboard's multi-key actions.</summary>
internal static class WebScripts
{
    /// <summary>Removes up to ARGV[1] entries from the head of KEYS[1]; returns how many went.</summary>
    public const string TrimHead = """
        local len = redis.call('LLEN', KEYS[1])
        local n = math.min(len, tonumber(ARGV[1]))
        if n > 0 then redis.call('LTRIM', KEYS[1], n, -1) end
        return n
        """;

    /// <summary>
    /// For each (record, entry) pair in ARGV: remove the record from the dead letters (KEYS[1]) and, only if it was
    /// there, push the entry to the tail of the queue (KEYS[2]). Returns how many moved.
    /// </summary>
    public const string RetryDead = """
        local moved = 0
        for i = 1, #ARGV, 2 do
          if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
            redis.call('RPUSH', KEYS[2], ARGV[i + 1])
            moved = moved + 1
          end
        end
        return moved
        """;
}
