/// One WebSocket connection of the load client to `/api/logs/ws`: sends requests, and
/// its `inbox` tallies what comes back. Two transports: `NIOLoadConnection` for many
/// connections on a few threads, `BlockingLoadConnection` for one busy stream on a
/// thread of its own.
protocol LoadConnection: Sendable {
    var inbox: ConnectionInbox { get }
    /// Sends a text message; throws if it cannot be sent.
    func send(_ text: String) throws
    func close() async
}

/// What both transports accept: the gateway's largest messages are 1000-line histories.
enum LoadConnectionLimits {
    static let maxMessageSize = 1 << 24
}

extension LoadConnection {
    /// Subscribes to a stream and returns when its `log.history` is in.
    @discardableResult
    func subscribe(agent: String, container: String, tail: Int) async throws -> ConnectionInbox.Reply {
        try await inbox.awaitReply(.history) {
            try send(#"{"type":"log.subscribe","id":1,"data":{"agentId":"\#(agent)","containerId":"\#(container)","tail":\#(tail),"batch":true}}"#)
        }
    }

    func unsubscribe(agent: String, container: String) async throws {
        _ = try await inbox.awaitReply(.unsubscribed) {
            try send(#"{"type":"log.unsubscribe","id":2,"data":{"agentId":"\#(agent)","containerId":"\#(container)"}}"#)
        }
    }

    /// From now on, time the live lines Docker stamps inside `window`.
    func measure(_ window: MeasureWindow) { inbox.measure(window) }
    var tally: DeliveryTally { inbox.tally }
    /// Hands over the latency samples (and forgets them).
    func takeLatencies() -> [Int32] { inbox.takeLatencies() }
    var unexpectedError: String? { inbox.unexpectedError }
}
