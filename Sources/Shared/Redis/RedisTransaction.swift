/// Commands sent together between `MULTI` and `EXEC`: Redis runs them as one, with
/// no other client's command in between, and answers each (`+OK` to `MULTI`, `+QUEUED`
/// to each command, then `EXEC`'s array of their replies), in `encoded` order.
public struct RedisTransaction: Sendable, Equatable {
    /// The RESP bytes of `MULTI`, the commands and, once `ended`, `EXEC`.
    public private(set) var encoded: [UInt8]
    /// Commands between `MULTI` and `EXEC`.
    public private(set) var commandCount = 0

    public init() {
        encoded = RedisCommand("MULTI").encoded
    }

    public mutating func append(_ name: String, _ arguments: [RedisArgument], trailing: RedisBulkArguments = RedisBulkArguments()) {
        RedisCommand.encode(name, arguments, trailing: trailing, to: &encoded)
        commandCount += 1
    }

    /// One command per argument of `each`, that argument last: `name leading… argument`
    /// (a `PUBLISH` per frame of a batch). Each is copied once, already encoded.
    public mutating func append(_ name: String, _ leading: [RedisArgument], forEachOf each: RedisBulkArguments) {
        var head: [UInt8] = []
        RedisCommand.encodeHead(name, leading, argumentCount: leading.count + 2, to: &head)
        encoded.reserveCapacity(encoded.count + each.encoded.count + each.count * head.count)
        each.forEachEncoded { argument in
            encoded.append(contentsOf: head)
            encoded.append(contentsOf: argument)
        }
        commandCount += each.count
    }

    /// With `EXEC` at the end: to send.
    public consuming func ended() -> RedisTransaction {
        encoded.append(contentsOf: RedisCommand("EXEC").encoded)
        return self
    }

    /// How many replies the ended transaction gets; the last is `EXEC`'s.
    public var replyCount: Int { commandCount + 2 }
}
