import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// The gateway process: Redis, the HTTP application, the log stream hub.
struct Gateway {
    let configuration: GatewayConfiguration
    let logger: Logger

    /// Runs until SIGTERM or SIGINT, then shuts down within 5 s, services in
    /// reverse order: the hub first (WebSockets closed with 1001 before the
    /// HTTP server would close them with 1000; references released), then the
    /// HTTP server, then Redis.
    func run() async throws {
        let metrics = GatewayMetrics()
        let redis = RedisClient(configuration: configuration.common.redis, logger: logger)
        let health = RedisHealthMonitor(configuration: configuration.common.redis, logger: logger)
        let hub = LogStreamHub(redis: redis, keys: configuration.common.keys, settings: configuration.streams, metrics: metrics, logger: logger)
        let application = try buildApplication(configuration, hub: hub, health: health, metrics: metrics, logger: logger)
        var services = ServiceGroupConfiguration(services: [redis, health, application, hub], logger: logger)
        services.gracefulShutdownSignals = [.sigterm, .sigint]
        // SPEC §1: shut down within 5 s. A client that does not read keeps its connection
        // (and so the HTTP server) open until this cut-off, which leaves a loaded machine
        // 2 s for the rest: the hub releases the references well before it.
        services.maximumGracefulShutdownDuration = .seconds(3)
        try await ServiceGroup(configuration: services).run()
    }
}

/// The HTTP server: the web UI, the JSON API and the log WebSockets.
func buildApplication(
    _ configuration: GatewayConfiguration,
    hub: LogStreamHub,
    health: RedisHealthMonitor,
    metrics: GatewayMetrics,
    logger: Logger
) throws -> some ApplicationProtocol {
    let router = try buildRouter(configuration, fleet: hub.fleet, health: health, metrics: metrics)
    return Application(
        router: router,
        server: .gateway(hub: hub, policy: configuration.access),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tailgate-gateway"),
        onServerRunning: { _ in logger.info("gateway running", metadata: ["instance": "\(hub.instanceID)"]) },
        logger: logger
    )
}
