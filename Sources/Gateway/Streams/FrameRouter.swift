import NIOCore
import Shared
import Synchronization

/// Routes the frames of the Redis subscriber to the outboxes of this gateway's clients.
///
/// `route` is the subscriber's handler: it runs on the subscriber connection's I/O
/// thread, so a read's frames reach the outboxes with no task in between. It hands
/// each frame, read once, to the outboxes of that stream's clients and never waits
/// for a client: only for an outbox's lock, which its holders keep briefly (the
/// longest: merging a subscription's history window). What a reconnect needs done asynchronously (the recovery) goes to
/// the hub through `reconnections`.
final class FrameRouter: Sendable {
    /// The outboxes whose live frames are held back since Redis came back, with their tickets.
    typealias Recovery = [(outbox: ClientOutbox, tickets: [StreamKey: ClientOutbox.Ticket])]

    /// One element per reconnect of the subscriber; the hub recovers each.
    let reconnections: AsyncStream<Recovery>
    private let reconnected: AsyncStream<Recovery>.Continuation
    private let keys: RedisKeys
    private let metrics: GatewayMetrics
    /// `logs` channel → the stream and the outboxes of its local clients.
    private let routes = Mutex<[String: Route]>([:])
    private let connections = Mutex(Connections())

    private struct Route {
        let stream: StreamKey
        var outboxes: [Int: ClientOutbox] = [:]
    }

    private struct Connections {
        var outboxes: [Int: ClientOutbox] = [:]
        var isDraining = false
    }

    init(keys: RedisKeys, metrics: GatewayMetrics) {
        self.keys = keys
        self.metrics = metrics
        (reconnections, reconnected) = AsyncStream.makeStream(of: Recovery.self)
    }

    /// Ends `reconnections`, once the subscriber is closed.
    func finish() {
        reconnected.finish()
    }

    // MARK: Connections

    /// Registers a new WebSocket; false once draining.
    func open(_ outbox: ClientOutbox) -> Bool {
        let isOpen = connections.withLock { connections in
            guard !connections.isDraining else { return false }
            connections.outboxes[outbox.id] = outbox
            return true
        }
        if isOpen { metrics.connections.increment() }
        return isOpen
    }

    func close(_ outbox: ClientOutbox) {
        connections.withLock { _ = $0.outboxes.removeValue(forKey: outbox.id) }
        metrics.connections.decrement()
    }

    /// Refuses new WebSockets from now on and returns the open ones.
    func drain() -> [ClientOutbox] {
        connections.withLock { connections in
            connections.isDraining = true
            return Array(connections.outboxes.values)
        }
    }

    var hasConnections: Bool {
        connections.withLock { !$0.outboxes.isEmpty }
    }

    // MARK: Routes

    func addRoute(_ stream: StreamKey, to outbox: ClientOutbox) {
        routes.withLock { routes in
            routes[keys.logs(stream.agent, stream.container), default: Route(stream: stream)].outboxes[outbox.id] = outbox
        }
    }

    func removeRoute(_ stream: StreamKey, to outbox: ClientOutbox) {
        routes.withLock { routes in
            let channel = keys.logs(stream.agent, stream.container)
            routes[channel]?.outboxes[outbox.id] = nil
            if routes[channel]?.outboxes.isEmpty == true { routes[channel] = nil }
        }
    }

    // MARK: Redis events

    /// The subscriber's handler: on its I/O thread, a read's events at a time.
    func route(_ events: ArraySlice<RedisSubscriberEvent>) {
        var deliveries = Deliveries()
        for event in events {
            switch event {
            case .message(let channel, let payload):
                deliveries.add(payload, of: channel) { routes.withLock { $0[channel] } }
            case .disconnected(let error):
                deliveries.hand()
                tellEveryStream(.internal, "lost the Redis subscription (\(error)), reconnecting")
            case .reconnected:
                deliveries.hand()
                metrics.redisReconnects.increment()
                // Held back from now on, until the recovery says what was missed.
                let recovery = connections.withLock { $0.outboxes.values.map { ($0, $0.beginRecovery()) } }
                reconnected.yield(recovery)
            }
        }
        deliveries.hand()
    }

    /// The frames of a run of messages. Consecutive messages of one channel are
    /// gathered once (one route look-up for them all), and
    /// each client's outbox is locked and its writer woken once per run of
    /// events, not once per line.
    private struct Deliveries {
        private struct ChannelRun {
            let channel: String
            /// Nil for a channel no local client watches any more.
            let route: Route?
            var frames: [StreamFrame]
        }

        private var runs: [ChannelRun] = []

        /// Adds a message; `route` is asked for only when the channel is not the previous message's.
        mutating func add(_ payload: ByteBuffer, of channel: String, route: () -> Route?) {
            if let last = runs.indices.last, runs[last].channel == channel {
                guard runs[last].route != nil else { return }
                runs[last].frames.append(StreamFrame(payload))
                return
            }
            let route = route()
            runs.append(ChannelRun(channel: channel, route: route, frames: route == nil ? [] : [StreamFrame(payload)]))
        }

        /// Hands what was gathered to the outboxes, in arrival order per client.
        mutating func hand() {
            var byOutbox: [Int: (outbox: ClientOutbox, runs: [ClientOutbox.Run])] = [:]
            for run in runs {
                guard let route = run.route else { continue }
                for (id, outbox) in route.outboxes {
                    byOutbox[id, default: (outbox, [])].runs.append(ClientOutbox.Run(stream: route.stream, frames: run.frames))
                }
            }
            for (outbox, runs) in byOutbox.values {
                outbox.deliver(runs)
            }
            runs.removeAll(keepingCapacity: true)
        }
    }

    private func tellEveryStream(_ code: StreamErrorCode, _ message: String) {
        for route in routes.withLock({ Array($0.values) }) {
            let payload = StreamErrorPayload(agentId: route.stream.agent.rawValue, containerId: route.stream.container.rawValue, code: code, message: message)
            let frame = StreamFrame(LineFrames.control(.streamError, payload))
            for outbox in route.outboxes.values {
                outbox.deliver([ClientOutbox.Run(stream: route.stream, frames: [frame])])
            }
        }
    }
}
