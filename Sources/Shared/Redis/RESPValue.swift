import NIOCore

/// A reply from Redis (RESP2, as hiredis 0.14 speaks it).
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString(ByteBuffer)
    case array([RESPValue])
    case null

    /// The reply as text: bulk and simple strings; `nil` for a null reply.
    public func string() throws(RedisError) -> String? {
        switch self {
        case .simpleString(let string): return string
        case .bulkString(let buffer): return String(buffer: buffer)
        case .null: return nil
        case .error(let message): throw .server(message)
        default: throw .unexpectedReply(expected: "string", got: kindDescription)
        }
    }

    public func int() throws(RedisError) -> Int {
        switch self {
        case .integer(let value): return value
        case .bulkString(let buffer):
            guard let value = Int(String(buffer: buffer)) else {
                throw .unexpectedReply(expected: "integer", got: "'\(String(buffer: buffer))'")
            }
            return value
        case .error(let message): throw .server(message)
        default: throw .unexpectedReply(expected: "integer", got: kindDescription)
        }
    }

    public func array() throws(RedisError) -> [RESPValue] {
        switch self {
        case .array(let values): return values
        case .null: return []
        case .error(let message): throw .server(message)
        default: throw .unexpectedReply(expected: "array", got: kindDescription)
        }
    }

    /// The message of an error reply; nil for any other.
    public var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }

    /// The reply unchanged, or the error it carries thrown.
    public func checked() throws(RedisError) -> RESPValue {
        if case .error(let message) = self { throw .server(message) }
        return self
    }

    public var kindDescription: String {
        switch self {
        case .simpleString(let string): "status '\(string)'"
        case .error(let message): "error '\(message)'"
        case .integer(let value): "integer \(value)"
        case .bulkString(let buffer): "bulk string of \(buffer.readableBytes) bytes"
        case .array(let values): "array of \(values.count)"
        case .null: "null"
        }
    }
}
