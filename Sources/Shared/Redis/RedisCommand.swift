import NIOCore

/// One Redis command, already encoded as a RESP request.
///
/// Encoding in Swift lets a pipeline of thousands of commands reach hiredis
/// as one buffer (`redisAppendFormattedCommand`) instead of one C call each.
public struct RedisCommand: Sendable, Equatable {
    /// The RESP bytes: `*<argc>\r\n` then `$<len>\r\n<arg>\r\n` per argument.
    public private(set) var encoded: [UInt8]

    public init(_ name: String, _ arguments: [RedisArgument]) {
        encoded = []
        encoded.reserveCapacity(16 + name.utf8.count + arguments.reduce(0) { $0 + $1.byteCount + 16 })
        appendDecimal(arguments.count + 1, prefix: UInt8(ascii: "*"))
        appendBulk(name.utf8)
        for argument in arguments {
            switch argument {
            case .string(let string): appendBulk(string.utf8)
            case .bytes(let bytes): appendBulk(bytes)
            case .buffer(let buffer): appendBulk(buffer.readableBytesView)
            }
        }
    }

    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }

    private mutating func appendBulk<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        appendDecimal(bytes.count, prefix: UInt8(ascii: "$"))
        encoded.append(contentsOf: bytes)
        encoded.append(contentsOf: [13, 10])
    }

    private mutating func appendDecimal(_ value: Int, prefix: UInt8) {
        encoded.append(prefix)
        encoded.append(contentsOf: String(value).utf8)
        encoded.append(contentsOf: [13, 10])
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
