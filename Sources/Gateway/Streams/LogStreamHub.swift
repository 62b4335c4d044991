import Logging
import NIOCore
import ServiceLifecycle
import Shared
import Synchronization

/// Moves log frames from Redis to the WebSocket clients of this gateway.
///
/// One subscriber connection carries every stream; a stream's channel is
/// subscribed once however many local clients watch it. One task reads the
/// subscriber's events and hands each frame, read once, to the outboxes of
/// that stream's clients; it never waits for a client.
///
/// Run it as the last service of the group, so that on shutdown it closes
/// the WebSockets (1001) and releases the references first, while the HTTP
/// server and Redis are still up.
final class LogStreamHub: Service, Sendable {
    let settings: StreamSettings
    let metrics: GatewayMetrics
    let fleet: FleetDirectory
    private let redis: RedisClient
    private let keys: RedisKeys
    private let subscriber: RedisSubscriber
    private let lifecycle: StreamLifecycle
    private let logger: Logger
    /// This gateway among all, as its references name it.
    let instanceID: String
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

    init(redis: RedisClient, keys: RedisKeys, settings: StreamSettings, metrics: GatewayMetrics, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        fleet = FleetDirectory(redis: redis, keys: keys)
        subscriber = redis.makeSubscriber()
        instanceID = StreamReferences.makeInstanceID()
        let references = StreamReferences(redis: redis, keys: keys, instanceID: instanceID)
        lifecycle = StreamLifecycle(subscriber: subscriber, references: references, linger: settings.releaseLinger, logger: logger)
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.dispatchEvents() }
            group.addTask { await self.renewReferences() }
            try? await gracefulShutdown()
            await closeConnections()
            await awaitCompletion(of: await lifecycle.releaseAll(), atMost: .seconds(1))
            subscriber.close()
            group.cancelAll()
        }
    }

    // MARK: Connections

    /// Registers a new WebSocket; false while shutting down.
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

    /// Routes the stream's frames to `outbox` and returns once its channel is
    /// subscribed and the reference taken: frames published from then on reach it.
    func attach(_ stream: StreamKey, to outbox: ClientOutbox) async throws {
        routes.withLock { routes in
            routes[keys.logs(stream.agent, stream.container), default: Route(stream: stream)].outboxes[outbox.id] = outbox
        }
        do {
            try await lifecycle.retain(stream)
        } catch {
            removeRoute(stream, outbox)
            throw error
        }
        metrics.subscriptions.increment()
    }

    func detach(_ stream: StreamKey, from outbox: ClientOutbox) async {
        removeRoute(stream, outbox)
        await lifecycle.release(stream)
        metrics.subscriptions.decrement()
    }

    private func removeRoute(_ stream: StreamKey, _ outbox: ClientOutbox) {
        routes.withLock { routes in
            let channel = keys.logs(stream.agent, stream.container)
            routes[channel]?.outboxes[outbox.id] = nil
            if routes[channel]?.outboxes.isEmpty == true { routes[channel] = nil }
        }
    }

    /// The stream's history (at most `limit` lines) and its meta, in one round trip.
    func history(of stream: StreamKey, limit: Int) async throws -> HistoryWindow {
        var commands = [RedisCommand("HMGET", .string(keys.meta(stream.agent, stream.container)), "epoch", "seq")]
        if limit > 0 {
            commands.append(RedisCommand("LRANGE", .string(keys.history(stream.agent, stream.container)), 0, .int(limit - 1)))
        }
        let replies = try await redis.pipeline(commands)
        let meta = try replies[0].array()
        let newestFirst = try replies.dropFirst().first?.array() ?? []
        var lines: [StreamFrame] = []
        lines.reserveCapacity(newestFirst.count)
        for case .bulkString(let bytes) in newestFirst.reversed() {
            let frame = StreamFrame(bytes)
            if frame.position != nil { lines.append(frame) }
        }
        let epoch = try meta.first?.string().map { Epoch($0) } ?? lines.last?.position?.epoch ?? ""
        let seq = try meta.dropFirst().first?.string().flatMap { Int($0) } ?? 0
        return HistoryWindow(lines: lines, epoch: epoch, latestSeq: seq)
    }

    // MARK: Redis events

    private func dispatchEvents() async {
        var events = subscriber.events.makeAsyncIterator()
        while let available = await events.nextAvailable() {
            var deliveries = Deliveries()
            for event in available {
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
                    let tickets = connections.withLock { $0.outboxes.values.map { ($0, $0.beginRecovery()) } }
                    Task { await recover(tickets) }
                }
            }
            deliveries.hand()
        }
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

    /// After a reconnect: confirm the channels, take the references again
    /// (Redis may have restarted empty), then send every client the lines it
    /// missed, or `log.gap` for those the history no longer has.
    private func recover(_ tickets: [(ClientOutbox, [StreamKey: ClientOutbox.Ticket])]) async {
        await lifecycle.renewAll(resubscribing: true)
        var waiting: [StreamKey: [(ClientOutbox, ClientOutbox.Ticket)]] = [:]
        for (outbox, streams) in tickets {
            for (stream, ticket) in streams { waiting[stream, default: []].append((outbox, ticket)) }
        }
        await withTaskGroup(of: Void.self) { group in
            for (stream, clients) in waiting {
                group.addTask {
                    let window = try? await self.history(of: stream, limit: self.settings.historyLimit)
                    for (outbox, ticket) in clients {
                        let missed = window.map { window in
                            ticket.last.map(window.lines(after:)) ?? HistoryWindow.Continuation(lines: window.lines[...], missing: nil, isExact: false)
                        }
                        outbox.completeRecovery(of: stream, ticket: ticket, missed: missed)
                    }
                }
            }
        }
    }

    private func renewReferences() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Leases.renewInterval)
            await lifecycle.renewAll(resubscribing: false)
        }
    }

    // MARK: Shutdown

    /// Closes every WebSocket with 1001 and waits briefly for the sessions to end.
    private func closeConnections() async {
        let outboxes = connections.withLock { connections in
            connections.isDraining = true
            return Array(connections.outboxes.values)
        }
        for outbox in outboxes {
            outbox.close(.goingAway, reason: "the gateway is shutting down", discardingQueue: true)
        }
        let deadline = ContinuousClock.now + settings.closeTimeout
        while connections.withLock({ !$0.outboxes.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Waits for `tasks`, but no longer than `timeout` (what is left keeps running).
func awaitCompletion(of tasks: [Task<Void, Never>], atMost timeout: Duration) async {
    let (finished, finish) = AsyncStream<Never>.makeStream()
    Task {
        for task in tasks { await task.value }
        finish.finish()
    }
    Task {
        try? await Task.sleep(for: timeout)
        finish.finish()
    }
    for await _ in finished {}
}
