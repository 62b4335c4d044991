import Logging
import ServiceLifecycle
import Synchronization

/// The entry point to Redis: a few command connections shared round-robin,
/// and subscriber connections on demand.
///
/// Run it in a `ServiceGroup` before the services that use it, so that on
/// shutdown it closes after them (they may still release state in Redis).
public final class RedisClient: Service, Sendable {
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    private let nextConnection = Atomic<Int>(0)
    private let logger: Logger

    public init(configuration: RedisConfiguration, connectionCount: Int = 2, logger: Logger) {
        precondition(connectionCount > 0, "a Redis client needs at least one connection")
        self.configuration = configuration
        self.logger = logger
        connections = (0..<connectionCount).map { _ in RedisConnection(configuration: configuration, logger: logger) }
    }

    /// Runs `body` with one connection; everything it sends goes over that connection in order.
    public func withConnection<Result: Sendable>(
        _ body: (RedisConnection) async throws -> Result
    ) async rethrows -> Result {
        let index = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(connections[index % connections.count])
    }

    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await withConnection { try await $0.send(command) }
    }

    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        try await withConnection { try await $0.pipeline(commands) }
    }

    /// Runs `script`; its arguments are `arguments`, then `trailing`.
    public func run(
        _ script: RedisScript,
        keys: [String],
        arguments: [RedisArgument],
        trailing: RedisBulkArguments = RedisBulkArguments()
    ) async throws -> RESPValue {
        try await withConnection { try await script.run(on: $0, keys: keys, arguments: arguments, trailing: trailing) }
    }

    /// A new subscriber connection and its events (one consumer); close it when done.
    public func makeSubscriber() -> (RedisSubscriber, RedisSubscriberEvents) {
        RedisSubscriber.withEvents(configuration: configuration, logger: logger)
    }

    /// A new subscriber connection whose events go to `handler`, on the connection's I/O
    /// thread (it must never wait: see `RedisSubscriber`); close it when done.
    public func makeSubscriber(handler: @escaping @Sendable (ArraySlice<RedisSubscriberEvent>) -> Void) -> RedisSubscriber {
        RedisSubscriber(configuration: configuration, logger: logger, handler: handler)
    }

    public func close() {
        for connection in connections { connection.close() }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }
}
