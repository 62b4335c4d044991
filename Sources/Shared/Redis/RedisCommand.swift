import NIOCore

/// One Redis command, already encoded as a RESP request.
///
/// Encoding in Swift lets a pipeline of thousands of commands reach hiredis
/// as one buffer (`redisAppendFormattedCommand`) instead of one C call each.
public struct RedisCommand: Sendable, Equatable {
    /// The RESP bytes: `*<argc>\r\n` then `$<len>\r\n<arg>\r\n` per argument.
    public private(set) var encoded: [UInt8]

    /// - Parameter trailing: arguments encoded beforehand, sent after `arguments`
    ///   (the frames of a batch of log lines: thousands, without an array each).
    public init(_ name: String, _ arguments: [RedisArgument], trailing: RedisBulkArguments = RedisBulkArguments()) {
        encoded = []
        encoded.reserveCapacity(
            16 + name.utf8.count + arguments.reduce(0) { $0 + $1.byteCount + 16 } + trailing.encoded.count
        )
        RESPEncoding.appendDecimal(arguments.count + 1 + trailing.count, prefix: UInt8(ascii: "*"), to: &encoded)
        RESPEncoding.appendBulk(name.utf8, to: &encoded)
        for argument in arguments {
            switch argument {
            case .string(let string): RESPEncoding.appendBulk(string.utf8, to: &encoded)
            case .bytes(let bytes): RESPEncoding.appendBulk(bytes, to: &encoded)
            case .buffer(let buffer): RESPEncoding.appendBulk(buffer.readableBytesView, to: &encoded)
            }
        }
        encoded.append(contentsOf: trailing.encoded)
    }

    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }
}

/// One argument of a command: text, or raw bytes that need no UTF-8 round trip.
public enum RedisArgument: Sendable, Equatable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes([UInt8])
    case buffer(ByteBuffer)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .string(String(value)) }
    public static func int(_ value: Int) -> RedisArgument { .string(String(value)) }

    var byteCount: Int {
        switch self {
        case .string(let string): string.utf8.count
        case .bytes(let bytes): bytes.count
        case .buffer(let buffer): buffer.readableBytes
        }
    }
}

/// Arguments encoded as RESP bulk strings one at a time into one buffer, for a
/// command with very many of them: the agent appends each log line's frame as it
/// makes it, and the batch reaches Redis without an array or a copy per line.
public struct RedisBulkArguments: Sendable, Equatable {
    /// `$<len>\r\n<arg>\r\n` per argument, in order.
    public private(set) var encoded: [UInt8] = []
    /// How many arguments `encoded` holds.
    public private(set) var count = 0

    public init() {}

    public mutating func append(_ argument: [UInt8]) {
        RESPEncoding.appendBulk(argument, to: &encoded)
        count += 1
    }

    public mutating func append(contentsOf other: RedisBulkArguments) {
        encoded.append(contentsOf: other.encoded)
        count += other.count
    }
}

enum RESPEncoding {
    static func appendBulk<Bytes: Collection<UInt8>>(_ bytes: Bytes, to encoded: inout [UInt8]) {
        appendDecimal(bytes.count, prefix: UInt8(ascii: "$"), to: &encoded)
        encoded.append(contentsOf: bytes)
        encoded.append(13)
        encoded.append(10)
    }

    /// `<prefix><value>\r\n`.
    static func appendDecimal(_ value: Int, prefix: UInt8, to encoded: inout [UInt8]) {
        encoded.append(prefix)
        ASCIIDecimal.append(value, to: &encoded)
        encoded.append(13)
        encoded.append(10)
    }
}
