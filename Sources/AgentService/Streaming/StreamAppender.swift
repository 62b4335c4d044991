import Shared

/// How a stream's batches of lines go into Redis (SPEC §2): one `MULTI`/`EXEC`
/// transaction per batch, so the history push and trim, one `PUBLISH` per line and
/// `meta` apply together and publish order is `seq` order.
///
/// A transaction, not a Lua script: Redis spends about a quarter less per line on
/// `LPUSH` and `PUBLISH` as queued commands than as `redis.call`s from a script
/// (docs/performance.md, "The agent's batches as transactions"), and Redis is the
/// one process that every agent and gateway share. A script checked that a retried
/// batch was not applied already; a transaction cannot, so a batch sent again after
/// a lost reply is checked first (`watchMeta`, `savedPosition`, `hasApplied`).
struct StreamAppender: Sendable {
    let historyKey: String
    let metaKey: String
    let channel: String
    let historySize: Int
    /// History and meta expire this long after a stream's last line.
    let retention: Duration

    /// The transaction that appends `frames` (encoded `log.line` frames, oldest first)
    /// and saves `position`, which must include them.
    func transaction(_ frames: RedisBulkArguments, upTo position: StreamPosition) -> RedisTransaction {
        // Each frame twice (LPUSH, PUBLISH), a PUBLISH head per frame, the other commands and their keys.
        let otherCommands = 3 * historyKey.utf8.count + 2 * metaKey.utf8.count + 320
        var transaction = RedisTransaction(reservingCapacity: 2 * frames.encoded.count + frames.count * (32 + channel.utf8.count) + otherCommands)
        // Oldest first onto the head: the list is newest first.
        transaction.append("LPUSH", [.string(historyKey)], trailing: frames)
        transaction.append("PUBLISH", [.string(channel)], forEachOf: frames)
        transaction.append("LTRIM", [.string(historyKey), 0, .int(historySize - 1)])
        transaction.append("HSET", [
            .string(metaKey),
            "epoch", .string(position.epoch), "seq", .int(position.seq),
            "lastTimestamp", .string(position.newestTimestamp?.text ?? ""), "lastTimestampCount", .int(position.linesAtNewestTimestamp),
        ])
        let seconds = RedisArgument.int(Int(retention.components.seconds))
        transaction.append("EXPIRE", [.string(historyKey), seconds])
        transaction.append("EXPIRE", [.string(metaKey), seconds])
        transaction.end()
        return transaction
    }

    /// Sent before checking a batch that may have been applied: a transaction applied
    /// meanwhile (its reply was lost, its `EXEC` still on the way) makes the next one fail.
    var watchMeta: RedisCommand { RedisCommand("WATCH", .string(metaKey)) }

    /// Ends `watchMeta` when the batch needs no sending.
    var unwatch: RedisCommand { RedisCommand("UNWATCH") }

    /// The saved epoch and `seq`, to tell with `hasApplied` whether a batch is in.
    var savedPosition: RedisCommand { RedisCommand("HMGET", .string(metaKey), "epoch", "seq") }

    /// Whether `savedPosition`'s reply says that the batch ending at `position` was applied.
    static func hasApplied(_ reply: RESPValue, upTo position: StreamPosition) throws(RedisError) -> Bool {
        guard case .array(let fields) = reply, fields.count == 2 else {
            throw .unexpectedReply(expected: "epoch and seq", got: reply.kindDescription)
        }
        guard let epoch = try fields[0].string(), let seq = try fields[1].string().flatMap({ Int($0) }) else { return false }
        return epoch == position.epoch && seq >= position.seq
    }
}
