import Synchronization

/// A Lua script run with `EVALSHA`, loaded on first use and again after Redis
/// forgot it (a restart or `SCRIPT FLUSH` answers `NOSCRIPT`).
public final class RedisScript: Sendable {
    public let source: String
    private let sha = Mutex<String?>(nil)

    public init(_ source: String) {
        self.source = source
    }

    public func run(
        on connection: RedisConnection,
        keys: [String],
        arguments: [RedisArgument],
        trailing: RedisBulkArguments = RedisBulkArguments()
    ) async throws -> RESPValue {
        if let sha = sha.withLock({ $0 }) {
            let reply = try await connection.pipeline([command(sha: sha, keys: keys, arguments: arguments, trailing: trailing)])[0]
            guard case .error(let message) = reply, Self.isNoScript(message) else { return try reply.checked() }
        }
        // EVAL runs the script and makes Redis cache it; SCRIPT LOAD gives us its digest.
        let replies = try await connection.pipeline([
            loadCommand,
            RedisCommand("EVAL", [.string(source)] + Self.tail(keys: keys, arguments: arguments), trailing: trailing),
        ])
        if let digest = try replies[0].string() {
            sha.withLock { $0 = digest }
        }
        return try replies[1].checked()
    }

    /// `SCRIPT LOAD`: Redis caches the script and answers its digest, for `command(sha:…)`.
    var loadCommand: RedisCommand { RedisCommand("SCRIPT", "LOAD", .string(source)) }

    /// The script's call by its digest (`EVALSHA`); after a `NOSCRIPT` error the script must be loaded again.
    func command(sha: String, keys: [String], arguments: [RedisArgument], trailing: RedisBulkArguments = RedisBulkArguments()) -> RedisCommand {
        RedisCommand("EVALSHA", [.string(sha)] + Self.tail(keys: keys, arguments: arguments), trailing: trailing)
    }

    /// Whether an error reply says that this Redis does not have the script (restarted, `SCRIPT FLUSH`).
    private static func isNoScript(_ message: String) -> Bool {
        message.hasPrefix("NOSCRIPT")
    }

    private static func tail(keys: [String], arguments: [RedisArgument]) -> [RedisArgument] {
        [.int(keys.count)] + keys.map { .string($0) } + arguments
    }
}
