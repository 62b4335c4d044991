import CHiredis
import Foundation
import NIOCore

/// One hiredis connection: the socket, hiredis's output buffer and its RESP reader.
///
/// Not thread-safe, and deliberately not `Sendable`: only the I/O thread of the
/// `RedisConnection` that made it touches it. Calls may block that thread (that
/// thread exists for this), never an event loop or the cooperative pool.
final class HiredisContext {
    /// A reply as the connection loop needs it: a subscriber's messages skip `RESPValue`.
    enum Reply {
        /// A pub/sub message, already handed to `nextReply`'s `onMessage`.
        case message
        case value(RESPValue)
    }

    private let context: UnsafeMutablePointer<redisContext>
    /// Where hiredis builds this connection's replies; released after `deinit` has freed the reader.
    private let replies = HiredisReplyArena()
    /// hiredis reads 16 KiB at a time; a busy subscriber's Lua batch is several times that,
    /// and every read wakes its consumer once.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 << 10, alignment: 1)
    /// The part of the last read not handed to hiredis's reader yet.
    private var unfed: Range<Int> = 0..<0
    /// hiredis compacts its buffer (moves what it has not parsed to the front) after
    /// each reply once 1 KiB is parsed: fed a whole read at once, that moves up to
    /// 128 KiB per reply. Fed this much at a time, it moves at most this much.
    private static let feedSize = 4096
    /// The channel of the last message: a burst is mostly one channel, so its name is made once.
    private var lastChannel = ""

    private init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
        if let reader = context.pointee.reader { replies.install(in: reader) }
    }

    deinit {
        redisFree(context)
        readBuffer.deallocate()
    }

    var fileDescriptor: Int32 { context.pointee.fd }

    static func connect(to endpoint: RedisURL.Endpoint, timeout: Duration) throws(RedisError) -> HiredisContext {
        let socketTimeout = makeTimeval(timeout)
        let pointer: UnsafeMutablePointer<redisContext>?
        let target: String
        switch endpoint {
        case .tcp(let host, let port):
            pointer = redisConnectWithTimeout(host, Int32(port), socketTimeout)
            target = "\(host):\(port)"
        case .unix(let path):
            pointer = redisConnectUnixWithTimeout(path, socketTimeout)
            target = path
        }
        guard let pointer else { throw .connectionUnavailable("connect to \(target): out of memory") }
        let context = HiredisContext(context: pointer)
        if let message = context.errorMessage {
            throw .connectionUnavailable("connect to \(target): \(message)")
        }
        // Also bounds the blocking reads and writes of `roundTrip` and `flush`.
        guard redisSetTimeout(pointer, socketTimeout) == REDIS_OK else {
            throw .connectionUnavailable("connect to \(target): cannot set socket timeout")
        }
        // hiredis opens the socket without FD_CLOEXEC: a program that starts others must not hand it on.
        _ = fcntl(pointer.pointee.fd, F_SETFD, FD_CLOEXEC)
        // Keepalive notices a peer that vanished without closing (TCP only).
        if case .tcp = endpoint { redisEnableKeepAlive(pointer) }
        return context
    }

    /// Queues an encoded request in hiredis's output buffer (no I/O yet).
    func append(_ encoded: [UInt8]) {
        encoded.withUnsafeBytes { bytes in
            _ = redisAppendFormattedCommand(context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }

    /// Writes the whole output buffer, blocking at most the socket timeout per write.
    func flush() throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else {
                throw .connectionLost(errorMessage ?? "write failed")
            }
        }
    }

    /// Reads what the socket has (one `read`); call when `poll` says it is readable,
    /// then take the replies with `nextReply` until it returns nil.
    func readAvailable() throws(RedisError) {
        let count = read(context.pointee.fd, readBuffer.baseAddress, readBuffer.count)
        if count > 0 {
            unfed = 0..<count
        } else if count == 0 {
            throw .connectionLost("Server closed the connection")
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
            // The socket blocks with a timeout (`redisSetTimeout`): this is that timeout.
            throw .connectionLost("read timed out")
        } else if errno != EINTR {
            throw .connectionLost(String(cString: strerror(errno)))
        }
    }

    /// The next complete reply already read, or `nil` when more bytes are needed.
    /// - Parameter onMessage: for a subscriber, takes each `["message", channel, payload]`
    ///   push (the payload's bytes are valid during the call only, so that they are copied
    ///   once, where they are kept); nil when every reply is a command's.
    func nextReply(onMessage: ((String, UnsafeRawBufferPointer) -> Void)? = nil) throws(RedisError) -> Reply? {
        var reply: UnsafeMutableRawPointer?
        while true {
            guard redisGetReplyFromReader(context, &reply) == REDIS_OK else {
                throw .connectionLost(errorMessage ?? "protocol error")
            }
            guard reply == nil, !unfed.isEmpty else { break }
            try feedNextPart()
        }
        guard let reply else { return nil }
        // Converted before it is released: nothing below keeps a pointer into it.
        defer { replies.reset() }
        let typed = reply.assumingMemoryBound(to: redisReply.self)
        if let onMessage, handOver(typed.pointee, to: onMessage) {
            return .message
        }
        return .value(Self.value(of: typed))
    }

    private func feedNextPart() throws(RedisError) {
        let part = unfed.prefix(Self.feedSize)
        unfed = part.upperBound..<unfed.upperBound
        let start = readBuffer.baseAddress?.advanced(by: part.lowerBound).assumingMemoryBound(to: CChar.self)
        guard redisReaderFeed(context.pointee.reader, start, part.count) == REDIS_OK else {
            throw .connectionLost("protocol error")
        }
    }

    /// Hands a pub/sub message, read straight from hiredis's reply, to `onMessage`; false for any other reply.
    private func handOver(_ reply: redisReply, to onMessage: (String, UnsafeRawBufferPointer) -> Void) -> Bool {
        guard reply.type == REDIS_REPLY_ARRAY, reply.elements == 3,
            let kind = reply.element[0]?.pointee, let channel = reply.element[1]?.pointee, let payload = reply.element[2]?.pointee,
            kind.type == REDIS_REPLY_STRING, channel.type == REDIS_REPLY_STRING, payload.type == REDIS_REPLY_STRING,
            Self.messageKind.withUnsafeBytes({ Self.bytes(of: kind).hasSameBytes(as: $0) })
        else { return false }
        let channelBytes = Self.bytes(of: channel)
        if !lastChannel.hasUTF8(channelBytes) {
            lastChannel = String(decoding: channelBytes, as: UTF8.self)
        }
        onMessage(lastChannel, Self.bytes(of: payload))
        return true
    }

    private static let messageKind = Array("message".utf8)

    private static func bytes(of reply: redisReply) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: reply.str, count: reply.len)
    }

    /// Sends one command and waits for its reply: the handshake, and a `BlockingRedisConnection`'s set-up.
    func roundTrip(_ command: RedisCommand) throws(RedisError) -> RESPValue {
        append(command.encoded)
        try flush()
        while true {
            if case .value(let reply) = try nextReply() { return reply }
            try readAvailable()
        }
    }

    /// Authenticates and selects the URL's database, as every new connection must first.
    func handshake(_ url: RedisURL) throws(RedisError) {
        if let password = url.password {
            let arguments: [RedisArgument] = url.username.map { [.string($0), .string(password)] } ?? [.string(password)]
            if case .error(let message) = try roundTrip(RedisCommand("AUTH", arguments)) {
                throw .authenticationFailed(message)
            }
        }
        if url.database != 0 {
            if case .error(let message) = try roundTrip(RedisCommand("SELECT", .int(url.database))) {
                throw .server(message)
            }
        }
    }

    private var errorMessage: String? {
        guard context.pointee.err != 0 else { return nil }
        return withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulkString(ByteBuffer(bytes: UnsafeRawBufferPointer(start: reply.str, count: reply.len)))
        case REDIS_REPLY_STATUS:
            return .simpleString(string(reply))
        case REDIS_REPLY_ERROR:
            return .error(string(reply))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(reply.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { value(of: reply.element[$0]!) })
        default:
            return .null
        }
    }

    private static func string(_ reply: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self)
    }
}

private func makeTimeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}
