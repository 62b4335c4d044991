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
        encoded.reserveCapacity(16 + name.utf8.count + arguments.reduce(0) { $0 + $1.byteCount + 16 } + trailing.encoded.count)
        Self.encode(name, arguments, trailing: trailing, to: &encoded)
    }

    /// Appends the command's RESP bytes to `encoded`: how a transaction holds its commands without a copy each.
    static func encode(_ name: String, _ arguments: [RedisArgument], trailing: RedisBulkArguments, to encoded: inout [UInt8]) {
        encodeHead(name, arguments, argumentCount: arguments.count + 1 + trailing.count, to: &encoded)
        encoded.append(contentsOf: trailing.encoded)
    }

    /// The array header for `argumentCount` arguments (the name included), the name and `arguments`.
    static func encodeHead(_ name: String, _ arguments: [RedisArgument], argumentCount: Int, to encoded: inout [UInt8]) {
        RESPEncoding.appendDecimal(argumentCount, prefix: UInt8(ascii: "*"), to: &encoded)
        RESPEncoding.appendBulk(name.utf8, to: &encoded)
        for argument in arguments {
            switch argument {
            case .string(let string): RESPEncoding.appendBulk(string.utf8, to: &encoded)
            case .bytes(let bytes): RESPEncoding.appendBulk(bytes, to: &encoded)
            case .buffer(let buffer): RESPEncoding.appendBulk(buffer.readableBytesView, to: &encoded)
            }
        }
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
    /// Where each argument's bytes end in `encoded`, for a command per argument (`RedisTransaction`).
    private var ends: [Int] = []

    /// How many arguments `encoded` holds.
    public var count: Int { ends.count }

    public init() {}

    public mutating func append(_ argument: [UInt8]) {
        RESPEncoding.appendBulk(argument, to: &encoded)
        ends.append(encoded.count)
    }

    public mutating func append(contentsOf other: RedisBulkArguments) {
        let shift = encoded.count
        encoded.append(contentsOf: other.encoded)
        ends.append(contentsOf: other.ends.lazy.map { $0 + shift })
    }

    /// Calls `body` with each argument as encoded (`$<len>\r\n<arg>\r\n`), in order; the
    /// bytes are valid during the call only.
    func forEachEncoded(_ body: (UnsafeRawBufferPointer) -> Void) {
        encoded.withUnsafeBytes { bytes in
            var start = 0
            for end in ends {
                body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
            }
        }
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
