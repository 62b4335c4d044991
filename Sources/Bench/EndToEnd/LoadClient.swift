import Logging
import Shared

/// Many `LoadConnection`s to one gateway, each subscribed to one stream: the clients
/// of an end-to-end scenario.
struct LoadClient: Sendable {
    /// The stream a connection subscribes to.
    struct Subscription: Sendable {
        var agent: String
        var container: String
    }

    /// How the connections are carried (`LoadConnection`).
    enum Transport: Sendable {
        /// NIO's event loops: any number of connections on a few threads.
        case eventLoops
        /// A thread per connection, reading a blocking socket: the cheapest per line, for one busy stream.
        case threadPerConnection
    }

    let connections: [any LoadConnection]
    /// From the first connect to the last `log.history`.
    let openingTime: Duration

    /// Opens one connection per subscription (`concurrency` handshakes at a time), subscribes
    /// each with `tail` lines of history and batching, and returns when every history is in.
    static func open(
        _ subscriptions: [Subscription], to gateway: GatewayUnderTest, tail: Int = 0, concurrency: Int = 32,
        transport: Transport = .eventLoops
    ) async throws -> LoadClient {
        try OpenFileLimit.raise(to: subscriptions.count + 256)
        let logger = Logger(label: "tailgate-bench-client")
        let started = ContinuousClock.now
        let connections = try await subscriptions.concurrentMap(limit: concurrency) { subscription in
            let connection: any LoadConnection =
                switch transport {
                case .eventLoops: try await NIOLoadConnection(url: gateway.logsURL, token: gateway.token, logger: logger)
                case .threadPerConnection: try await BlockingLoadConnection(port: gateway.port, path: GatewayUnderTest.logsPath, token: gateway.token)
                }
            do {
                try await connection.subscribe(agent: subscription.agent, container: subscription.container, tail: tail)
            } catch {
                await connection.close()
                throw error
            }
            return connection
        }
        return LoadClient(connections: connections, openingTime: ContinuousClock.now - started)
    }

    func measure(_ window: MeasureWindow) {
        for connection in connections { connection.measure(window) }
    }

    var tallies: [DeliveryTally] { connections.map(\.tally) }
    var counts: DeliveryCounts { tallies.reduce(DeliveryCounts()) { $0 + $1.counts } }

    /// Every connection's latency samples, handed over.
    func takeLatencies() -> [Int32] { connections.flatMap { $0.takeLatencies() } }

    /// An `error` or stream error some connection got unasked, for the report.
    var firstUnexpectedError: String? { connections.lazy.compactMap(\.unexpectedError).first }

    func close() async {
        _ = try? await connections.concurrentMap(limit: 256) { await $0.close() }
    }
}
