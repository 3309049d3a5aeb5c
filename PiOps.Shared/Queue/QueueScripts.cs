namespace PiOps.Shared.Queue;

/// <summary>
/// The Lua scripts of the protocol: each is one step where several keys must change together, so no crash between
/// two commands can lose or duplicate an entry. They use only commands Redis 7 and Garnet both run.
/// </summary>
internal static class QueueScripts
{
    /// <summary>
    /// The fence, shared by both store scripts: for a result (of worker w at attempt n, its JSON json) whose entry is no
    /// longer in flight, 0 when the task's record says this result was stored (a retried store whose first reply was
    /// lost): its batch's results hash holds this very JSON, or its own record says done by this worker at this attempt;
    /// else a refused late result: 2 the first time for this attempt (marked on the task's own record as 'a{N}.fenced', to
    /// be counted), 1 when it was refused before (a store tried again is refused again, not counted again).
    /// </summary>
    private const string FenceFunction = """
        local function fence(status, batch, id, json, w, n, ttl)
          if batch and redis.call('HGET', batch, id) == json then return 0 end
          local s = redis.call('HMGET', status, 'state', 'worker', 'attempt')
          if s[1] == 'done' and s[2] == w and s[3] == n then return 0 end
          local first_refusal = redis.call('HSETNX', status, 'a' .. n .. '.fenced', w) == 1
          if not s[1] then redis.call('EXPIRE', status, ttl) end
          if first_refusal then return 2 end
          return 1
        end

        """;

    /// <summary>
    /// A done task's status record in its own hash, written by both store scripts: 'state', 'attempt' and 'worker' (what
    /// the fence and the recoverers read) and 'result', the result's JSON as pushed to the results list, from which
    /// readers take everything else (<see cref="TaskStatusRecord.FromHash"/>). Four fields, not one per value: the
    /// store's cost in Redis is mostly per field and per command (bench/README.md, throughput).
    /// </summary>
    private const string DoneFunction = $$"""
        local function done(status, json, n, w, ttl)
          redis.call('HSET', status, 'state', 'done', 'attempt', n, 'worker', w, '{{TaskStatusRecord.ResultField}}', json)
          redis.call('EXPIRE', status, ttl)
        end

        """;

    /// <summary>
    /// A task finished: drop it from the worker's in-flight list, keep the result, mark the status, count it, publish.
    /// An entry no longer in flight stores nothing. Either an earlier try of this same call stored it (its reply lost in
    /// an outage: the status says done by this worker at this attempt), and it returns 0; or the entry was recovered for
    /// another attempt while this worker was taken for dead, and this late result is refused (the fence): counted as
    /// 'fenced' in the stats once per attempt (the record's 'a{N}.fenced' names the worker), and it returns -1. The other
    /// attempt's result is the one kept. An empty entry means a task that never was in the queue (an Indexed Job's):
    /// always stored.
    /// KEYS: inflight, results, status, stats. ARGV: raw entry, result JSON, results to keep, status TTL s, channel
    /// (empty: publish nothing, the caller publishes once replicas acknowledged), attempt, worker.
    /// </summary>
    public const string Complete = FenceFunction + DoneFunction + """
        local ttl = tonumber(ARGV[4])
        local removed = 1
        if ARGV[1] ~= '' then removed = redis.call('LREM', KEYS[1], 1, ARGV[1]) end
        if removed == 0 then
          local refused = fence(KEYS[3], false, '', ARGV[2], ARGV[7], ARGV[6], ttl)
          if refused == 0 then return 0 end
          if refused == 2 then redis.call('HINCRBY', KEYS[4], 'fenced', 1) end
          return -1
        end
        redis.call('LPUSH', KEYS[2], ARGV[2])
        redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
        done(KEYS[3], ARGV[2], ARGV[6], ARGV[7], ttl)
        redis.call('HINCRBY', KEYS[4], 'done', 1)
        if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[2]) end
        return removed
        """;

    /// <summary>
    /// A worker's one round trip per turn: store the results it finished (as <see cref="Complete"/> does for each), then,
    /// unless the queue is paused, move up to N more entries from the head of the queue to its in-flight list, and
    /// return everything that list holds. Returning the whole list, not only what this call moved, lets a worker adopt
    /// entries moved by an earlier call whose reply was lost in a Redis outage, so none sits there forgotten.
    /// A result whose entry is no longer in flight is not stored, published or counted as done: either an earlier try
    /// of this call stored it and its reply was lost (a Redis stall longer than the client's timeout; the record says
    /// so), or the entry was recovered for another attempt while this worker was taken for dead (a partition longer
    /// than its heartbeat), and the late result is refused and counted as 'fenced': the other attempt's result is the
    /// one kept, so each task has exactly one recorded result. The stored results go to the results list in one LPUSH,
    /// in the order given (the last one at the head, as one LPUSH each would leave them).
    /// Where a result is recorded: under protocol 2 (the protocol key says 2 or more), a task whose id names its
    /// producer's batch has it in that batch's results hash (field: the task id), one HSET per batch and round trip;
    /// otherwise the task's own hash gets it (<see cref="DoneFunction"/>). A task's own hash keeps its history either way.
    /// The batches' hashes are written after the loop, so a result given twice in one call finds its first store among
    /// those still pending.
    /// KEYS: inflight, results, stats, queue, paused, protocol, then one status key per result, then the batches'
    /// results hashes the results name.
    /// ARGV: results to keep, status TTL s, channel (empty: publish nothing, the caller publishes once replicas
    /// acknowledged the store), result count, entries to take, then per result: raw entry, result JSON, attempt, worker,
    /// task id, and which of the results hashes is its batch's (1 for the first, 0 for none).
    /// Returns 'ok' or 'paused', one character per result ('1' stored, '0' stored already by an earlier try, 'f' refused
    /// by the fence), then the in-flight entries in the order they were taken.
    /// Cost: a worker runs what it holds in the order taken, so its results are normally the first N entries of its
    /// in-flight list: then one LTRIM drops them all (anything else takes one LREM each, with the fence), and the next
    /// entries move as one LRANGE, LTRIM and RPUSH rather than an LMOVE each. Both rely on the script running isolated
    /// from other clients, as Redis runs every script and Garnet runs them in its Lua transaction mode
    /// (EmbeddedGarnet, ScriptIsolationFacts): without it two workers took the same entries and lost others.
    /// A record per batch rather than per task is what brings Redis' time a trivial task under 8 µs (bench/README.md).
    /// </summary>
    public const string CompleteAndTake = FenceFunction + DoneFunction + """
        local unpack = unpack or table.unpack
        local keep, ttl, channel = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
        local n, take = tonumber(ARGV[4]), tonumber(ARGV[5])
        local fenced = 0
        local flags, results, batches, pending = {}, {}, {}, {}
        local batched = n > 0 and (tonumber(redis.call('GET', KEYS[6])) or 1) >= 2
        local inorder = n > 0
        if inorder then
          local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
          for i = 1, n do
            if head[i] ~= ARGV[6 + (i - 1) * 6] then
              inorder = false
              break
            end
          end
          if inorder then redis.call('LTRIM', KEYS[1], n, -1) end
        end
        for i = 1, n do
          local a = 6 + (i - 1) * 6
          local raw, json, attempt, w, id, b = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
          if inorder or redis.call('LREM', KEYS[1], 1, raw) == 1 then
            if batched and b > 0 then
              local fields = batches[b]
              if not fields then
                fields = {}
                batches[b] = fields
              end
              fields[#fields + 1] = id
              fields[#fields + 1] = json
              pending[id] = json
            else
              done(KEYS[6 + i], json, attempt, w, ttl)
            end
            if channel ~= '' then redis.call('PUBLISH', channel, json) end
            results[#results + 1] = json
            flags[i] = '1'
          else
            local refused = 0
            if pending[id] ~= json then refused = fence(KEYS[6 + i], b > 0 and KEYS[6 + n + b], id, json, w, attempt, ttl) end
            if refused == 0 then
              flags[i] = '0'
            else
              flags[i] = 'f'
              if refused == 2 then fenced = fenced + 1 end
            end
          end
        end
        for b, fields in pairs(batches) do
          redis.call('HSET', KEYS[6 + n + b], unpack(fields))
          redis.call('EXPIRE', KEYS[6 + n + b], ttl)
        end
        if #results > 0 then
          redis.call('LPUSH', KEYS[2], unpack(results))
          redis.call('LTRIM', KEYS[2], 0, keep - 1)
          redis.call('HINCRBY', KEYS[3], 'done', #results)
        end
        if fenced > 0 then redis.call('HINCRBY', KEYS[3], 'fenced', fenced) end
        local state = 'ok'
        if redis.call('EXISTS', KEYS[5]) == 1 then
          state = 'paused'
        elseif take > 0 then
          local got = redis.call('LRANGE', KEYS[4], 0, take - 1)
          if #got > 0 then
            redis.call('LTRIM', KEYS[4], #got, -1)
            redis.call('RPUSH', KEYS[1], unpack(got))
          end
        end
        local held = redis.call('LRANGE', KEYS[1], 0, -1)
        table.insert(held, 1, table.concat(flags))
        table.insert(held, 1, state)
        return held
        """;

    /// <summary>
    /// Entries a worker took but will not start (a long task came first in its batch): back to the head of the queue,
    /// in their order, unchanged. KEYS: inflight, queue. ARGV: the entries. Returns how many went back.
    /// </summary>
    public const string GiveBack = """
        local n = 0
        for i = #ARGV, 1, -1 do
          if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
            redis.call('LPUSH', KEYS[2], ARGV[i])
            n = n + 1
          end
        end
        return n
        """;

    /// <summary>
    /// An entry that cannot be run: from the worker's in-flight list to the dead letters, in one step. An entry no
    /// longer in flight (an earlier try already moved it) is a no-op that returns 0, so a retry adds no second letter.
    /// KEYS: inflight, dead letters, stats, status. ARGV: raw entry, dead-letter JSON, status TTL s, status pairs.
    /// </summary>
    public const string DeadLetter = """
        local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
        if removed == 0 then return 0 end
        redis.call('RPUSH', KEYS[2], ARGV[2])
        redis.call('HINCRBY', KEYS[3], 'failed', 1)
        if #ARGV > 3 then
          for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
          redis.call('EXPIRE', KEYS[4], tonumber(ARGV[3]))
        end
        return removed
        """;

    /// <summary>
    /// A task's status written by a recoverer ('queued' for its next attempt, or 'dead'), unless the task is already
    /// done: a live worker may take the requeued entry and finish it before the recoverer's status write arrives, and
    /// that write must not turn a done task back into a queued one. Done means its own record says so or its batch's
    /// results hash holds its result. KEYS: status, then its batch's results hash if it has one. ARGV: TTL s, task id,
    /// field/value pairs.
    /// </summary>
    public const string SetStatusUnlessDone = """
        if KEYS[2] and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
        if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
        for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
        return 1
        """;

    /// <summary>
    /// A task's 'processing' status, unless its record has moved past this attempt. The write is best effort and can
    /// arrive late: sent just before a worker was cut off from Redis, it sits in the network until the link heals, when
    /// the task may have been recovered, run again and stored by another worker. It then must not turn that 'done'
    /// record back into this attempt's 'processing'. Refused (0) when the record is done (or its batch's results hash
    /// holds its result) or dead, or names a later attempt. KEYS: status, then its batch's results hash if it has one.
    /// ARGV: TTL s, this attempt, task id, then field/value pairs.
    /// </summary>
    public const string MarkProcessing = """
        if KEYS[2] and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 0 end
        local s = redis.call('HMGET', KEYS[1], 'state', 'attempt')
        if s[1] == 'done' or s[1] == 'dead' then return 0 end
        if s[2] and tonumber(s[2]) and tonumber(s[2]) > tonumber(ARGV[2]) then return 0 end
        for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
        return 1
        """;

    /// <summary>
    /// Give back everything in a worker's in-flight list to the head of the queue, unchanged (a shutdown, not a
    /// failure). KEYS: inflight, queue. Returns how many entries went back.
    /// </summary>
    public const string ReturnInFlight = """
        local n = 0
        while redis.call('RPOPLPUSH', KEYS[1], KEYS[2]) do n = n + 1 end
        return n
        """;

    /// <summary>
    /// Recover a dead worker's in-flight entries, decided by the caller from what it read: each goes back to the head
    /// of the queue (attempt + 1) or to the dead letters. Refuses when the worker's heartbeat is back (-1) or its
    /// in-flight list is no longer what the caller read (-2, read again), so two recoverers never both act.
    /// KEYS: heartbeat, inflight, queue, dead letters, workers, stats.
    /// ARGV: worker id, count, then per entry: original, action ('q' or 'd'), payload.
    /// </summary>
    public const string Recover = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
        local current = redis.call('LRANGE', KEYS[2], 0, -1)
        local n = tonumber(ARGV[2])
        if #current ~= n then return -2 end
        for i = 1, n do
          if current[i] ~= ARGV[3 + (i - 1) * 3] then return -2 end
        end
        local requeued, dead = 0, 0
        for i = n, 1, -1 do
          if ARGV[4 + (i - 1) * 3] == 'q' then
            redis.call('LPUSH', KEYS[3], ARGV[5 + (i - 1) * 3])
            requeued = requeued + 1
          end
        end
        for i = 1, n do
          if ARGV[4 + (i - 1) * 3] == 'd' then
            redis.call('RPUSH', KEYS[4], ARGV[5 + (i - 1) * 3])
            dead = dead + 1
          end
        end
        redis.call('DEL', KEYS[2])
        redis.call('SREM', KEYS[5], ARGV[1])
        if requeued > 0 then redis.call('HINCRBY', KEYS[6], 'recovered', requeued) end
        if dead > 0 then redis.call('HINCRBY', KEYS[6], 'failed', dead) end
        return n
        """;
}
