import Shared

/// Everything the gateway needs to run, resolved from flags and environment.
struct GatewayConfiguration: Sendable {
    var common: CommonConfiguration
    var host: String
    var port: Int
    var access: AccessPolicy
    var streams = StreamSettings()
}

/// Limits and timings of log streaming (not user options; tests may change them).
struct StreamSettings: Sendable {
    /// Lines a stream's history holds (the agent's `--history` default): the default and maximum `tail`.
    var historyLimit = 1000
    /// Bytes queued for one connection before its live lines are dropped and reported as `log.gap`.
    /// Enough for a client that keeps up on average to be descheduled for a moment on a busy
    /// host (at 100k lines/s, 1 MiB was ~40 ms and lost lines); only a client that is behind holds it.
    var outboundQueueLimit = 4 << 20
    var maximumSubscriptions = 100
    /// Bad client messages in a row after which the connection is closed with 1008.
    var maximumBadMessages = 20
    /// How long a stream stays subscribed after its last local client left, so a page reload does not churn.
    var releaseLinger: Duration = .seconds(2)
    /// How long shutdown waits for WebSocket clients to answer the 1001 close.
    var closeTimeout: Duration = .seconds(1)
}
