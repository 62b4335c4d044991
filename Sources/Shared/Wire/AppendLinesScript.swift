/// The agent's write of a batch of log lines (SPEC §2), as one atomic script: the
/// history push and trim, one `PUBLISH` per line, and `meta`. In Shared because the
/// benchmark's pipeline ceiling runs the very same script.
extension RedisScript {
    public static let appendLines = RedisScript(
        """
        -- KEYS: history, meta, channel. ARGV: history size, retention s, epoch, seq,
        -- newest timestamp, lines at newest timestamp, then the frames oldest first.
        -- A batch retried after a lost reply was already applied: do not repeat it.
        -- One LPUSH for the batch (callers send at most maxBatchLines frames, well
        -- within Lua's stack); PUBLISH is per frame, one message per line.
        local saved = redis.call('HMGET', KEYS[2], 'epoch', 'seq')
        if saved[1] == ARGV[3] and tonumber(saved[2]) and tonumber(saved[2]) >= tonumber(ARGV[4]) then
            return 0
        end
        redis.call('LPUSH', KEYS[1], unpack(ARGV, 7))
        for i = 7, #ARGV do
            redis.call('PUBLISH', KEYS[3], ARGV[i])
        end
        redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
        redis.call('HSET', KEYS[2], 'epoch', ARGV[3], 'seq', ARGV[4], 'lastTimestamp', ARGV[5], 'lastTimestampCount', ARGV[6])
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        redis.call('EXPIRE', KEYS[2], ARGV[2])
        return #ARGV - 6
        """
    )
}
