/// Everything that can go wrong talking to Redis, each with a message an operator can act on.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Redis answered with an error reply, e.g. `WRONGTYPE …` or `ERR unknown command`.
    case server(String)
    /// Redis refused our credentials (`AUTH`), or wants some and got none.
    case authenticationFailed(String)
    /// No connection could be made; the client keeps retrying in the background.
    case connectionUnavailable(String)
    /// The connection broke while the command was in flight; it may or may not have run.
    case connectionLost(String)
    /// No reply within the command timeout; the connection is dropped and made again.
    case timeout(Duration)
    /// The reply did not have the shape the caller asked for.
    case unexpectedReply(expected: String, got: String)
    /// The URL in the configuration cannot be used.
    case invalidURL(String)
    /// The client was closed.
    case closed

    public var description: String {
        switch self {
        case .server(let message): "Redis error: \(message)"
        case .authenticationFailed(let message): "Redis authentication failed: \(message)"
        case .connectionUnavailable(let message): "Redis unavailable: \(message)"
        case .connectionLost(let message): "Redis connection lost: \(message)"
        case .timeout(let duration): "Redis command timed out after \(duration)"
        case .unexpectedReply(let expected, let got): "unexpected Redis reply: expected \(expected), got \(got)"
        case .invalidURL(let message): "invalid Redis URL: \(message)"
        case .closed: "Redis client closed"
        }
    }
}
