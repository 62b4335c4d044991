import Glibc

/// A Redis connection owned by the one thread that uses it, and that may block on it.
///
/// For a busy writer that has a thread of its own (the agent's `LogFollower`):
/// its commands go straight to the socket and their replies are read on the same
/// thread, where a `RedisConnection` hands each command to its I/O thread and
/// each reply back. Deliberately not `Sendable`: make it, use it and drop it on
/// that thread, never on an event loop or the cooperative pool.
public final class BlockingRedisConnection {
    private let context: HiredisContext

    /// Connects and authenticates, blocking up to `configuration.connectTimeout`,
    /// which also bounds each later write and read.
    public init(configuration: RedisConfiguration) throws(RedisError) {
        context = try HiredisContext.connect(to: configuration.url.endpoint, timeout: configuration.connectTimeout)
        try context.handshake(configuration.url)
    }

    /// The socket, to `poll` for replies.
    public var fileDescriptor: Int32 { context.fileDescriptor }

    /// Writes `command` whole. It goes to the socket as encoded, without a copy into hiredis's output buffer.
    public func write(_ command: RedisCommand) throws(RedisError) {
        try write(command.encoded)
    }

    /// Writes `transaction` whole, as `write(_:)` does a command.
    public func write(_ transaction: RedisTransaction) throws(RedisError) {
        try write(transaction.encoded)
    }

    private func write(_ encoded: [UInt8]) throws(RedisError) {
        do {
            try FileDescriptorIO.sendAll(encoded, on: fileDescriptor)
        } catch {
            // The socket's send timeout (`redisSetTimeout`) ends a stalled write with EAGAIN.
            let timedOut = error.errnoCode == EAGAIN || error.errnoCode == EWOULDBLOCK
            throw .connectionLost(timedOut ? "write timed out" : String(cString: strerror(error.errnoCode)))
        }
    }

    /// Makes closing the connection drop what the kernel has not delivered yet (`SO_LINGER`
    /// of 0: a reset, not a graceful close). A write abandoned after a timeout, held up by
    /// a network outage, must not reach Redis later, after it was sent again on another connection.
    public func discardUndeliveredOnClose() {
        var abort = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
    }

    /// Whether the socket has something to read while no reply is due: Redis closed an idle
    /// connection (its `timeout`), or the connection broke. Then make a new one.
    public var isStale: Bool { FileDescriptorIO.isReadable(fileDescriptor) }

    /// Sends `command` and waits for its reply (blocking up to the timeout per read).
    public func roundTrip(_ command: RedisCommand) throws(RedisError) -> RESPValue {
        try context.roundTrip(command)
    }

    /// Reads what the socket has (one `read`, blocking up to the timeout when it has nothing);
    /// then take the replies with `nextReply` until it returns nil.
    public func readAvailable() throws(RedisError) {
        try context.readAvailable()
    }

    /// The next complete reply already read, or nil when more bytes are needed.
    public func nextReply() throws(RedisError) -> RESPValue? {
        guard case .value(let reply) = try context.nextReply() else { return nil }
        return reply
    }
}
