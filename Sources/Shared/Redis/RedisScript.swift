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
        let tail: [RedisArgument] = [.int(keys.count)] + keys.map { .string($0) } + arguments
        if let sha = sha.withLock({ $0 }) {
            let reply = try await connection.pipeline([RedisCommand("EVALSHA", [.string(sha)] + tail, trailing: trailing)])[0]
            guard case .error(let message) = reply, message.hasPrefix("NOSCRIPT") else { return try reply.checked() }
        }
        // EVAL runs the script and makes Redis cache it; SCRIPT LOAD gives us its digest.
        let replies = try await connection.pipeline([
            RedisCommand("SCRIPT", "LOAD", .string(source)),
            evalCommand(keys: keys, arguments: arguments, trailing: trailing),
        ])
        if let digest = try replies[0].string() {
            sha.withLock { $0 = digest }
        }
        return try replies[1].checked()
    }

    /// The script's call with its source (`EVAL`), which never meets `NOSCRIPT`: for a
    /// writer that sends large batches down a connection of its own (`LogFollower`),
    /// ~1 KiB more per batch and a digest Redis makes in microseconds cost less than
    /// tracking whether this Redis has the script.
    public func evalCommand(keys: [String], arguments: [RedisArgument], trailing: RedisBulkArguments = RedisBulkArguments()) -> RedisCommand {
        RedisCommand("EVAL", [.string(source), .int(keys.count)] + keys.map { .string($0) } + arguments, trailing: trailing)
    }
}
