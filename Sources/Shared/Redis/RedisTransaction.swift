/// Commands sent together between `MULTI` and `EXEC`: Redis runs them as one, with
/// no other client's command in between, and answers each (`+OK` to `MULTI`, `+QUEUED`
/// to each command, then `EXEC`'s array of their replies), in `encoded` order.
public struct RedisTransaction: Sendable, Equatable {
    /// The RESP bytes of `MULTI`, the commands and, once ended, `EXEC`.
    public private(set) var encoded: [UInt8]
    /// Commands between `MULTI` and `EXEC`.
    public private(set) var commandCount = 0

    /// - Parameter byteCount: about how many bytes the commands take: reserved at once, so
    ///   that a transaction of a large batch's frames is not copied as it grows.
    public init(reservingCapacity byteCount: Int = 0) {
        encoded = []
        encoded.reserveCapacity(byteCount + 64)
        encoded.append(contentsOf: RedisCommand("MULTI").encoded)
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
        each.forEachEncoded { argument in
            encoded.append(contentsOf: head)
            encoded.append(contentsOf: argument)
        }
        commandCount += each.count
    }

    /// Appends `EXEC`: the transaction is then ready to send.
    public mutating func end() {
        encoded.append(contentsOf: RedisCommand("EXEC").encoded)
    }

    /// How many replies the ended transaction gets; the last is `EXEC`'s.
    public var replyCount: Int { commandCount + 2 }
}
