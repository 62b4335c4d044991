import Metrics
import Prometheus

/// The gateway's own metrics, exported by `GET /metrics` from `registry`.
struct GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// Open log WebSockets.
    let connections: Meter
    /// Stream subscriptions over all connections.
    let subscriptions: Meter
    let linesDelivered: Metrics.Counter
    /// Live lines not sent to a client that was too slow (reported to it as `log.gap`).
    let linesDropped: Metrics.Counter
    let redisReconnects: Metrics.Counter

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        connections = Meter(label: "tailgate_gateway_connections", factory: factory)
        subscriptions = Meter(label: "tailgate_gateway_subscriptions", factory: factory)
        linesDelivered = Counter(label: "tailgate_gateway_lines_delivered_total", factory: factory)
        linesDropped = Counter(label: "tailgate_gateway_lines_dropped_total", factory: factory)
        redisReconnects = Counter(label: "tailgate_gateway_redis_reconnects_total", factory: factory)
    }
}
