import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// Moves log frames from Redis to the WebSocket clients of this gateway.
///
/// One subscriber connection carries every stream; a stream's channel is
/// subscribed once however many local clients watch it. Its `FrameRouter`
/// hands each frame, read once, to the outboxes of that stream's clients on the
/// subscriber's own thread; the hub takes and releases the streams, reads their
/// history and recovers what a Redis outage cost the clients.
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
    /// This gateway among all, as its references name it.
    let instanceID: String
    private let router: FrameRouter

    init(redis: RedisClient, keys: RedisKeys, settings: StreamSettings, metrics: GatewayMetrics, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self.metrics = metrics
        fleet = FleetDirectory(redis: redis, keys: keys)
        let router = FrameRouter(keys: keys, metrics: metrics)
        self.router = router
        subscriber = redis.makeSubscriber { router.route($0) }
        instanceID = StreamReferences.makeInstanceID()
        let references = StreamReferences(redis: redis, keys: keys, instanceID: instanceID)
        lifecycle = StreamLifecycle(subscriber: subscriber, references: references, linger: settings.releaseLinger, logger: logger)
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.recoverAfterReconnects() }
            group.addTask { await self.renewReferences() }
            try? await gracefulShutdown()
            await closeConnections()
            await awaitCompletion(of: await lifecycle.releaseAll(), atMost: .seconds(1))
            subscriber.close()
            router.finish()
            group.cancelAll()
        }
    }

    // MARK: Connections

    /// Registers a new WebSocket; false while shutting down.
    func open(_ outbox: ClientOutbox) -> Bool {
        router.open(outbox)
    }

    func close(_ outbox: ClientOutbox) {
        router.close(outbox)
    }

    /// Routes the stream's frames to `outbox` and returns once its channel is
    /// subscribed and the reference taken: frames published from then on reach it.
    func attach(_ stream: StreamKey, to outbox: ClientOutbox) async throws {
        router.addRoute(stream, to: outbox)
        do {
            try await lifecycle.retain(stream)
        } catch {
            router.removeRoute(stream, to: outbox)
            throw error
        }
        metrics.subscriptions.increment()
    }

    func detach(_ stream: StreamKey, from outbox: ClientOutbox) async {
        router.removeRoute(stream, to: outbox)
        await lifecycle.release(stream)
        metrics.subscriptions.decrement()
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

    // MARK: Redis outages

    /// Each recovery runs on its own: shutdown does not wait for one, whose Redis commands
    /// could take their timeout when Redis is going down again.
    private func recoverAfterReconnects() async {
        for await recovery in router.reconnections {
            Task { await recover(recovery) }
        }
    }

    /// After a reconnect: confirm the channels, take the references again
    /// (Redis may have restarted empty), then send every client the lines it
    /// missed, or `log.gap` for those the history no longer has.
    private func recover(_ recovery: FrameRouter.Recovery) async {
        await lifecycle.renewAll(resubscribing: true)
        var waiting: [StreamKey: [(ClientOutbox, ClientOutbox.Ticket)]] = [:]
        for (outbox, streams) in recovery {
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
        for outbox in router.drain() {
            outbox.close(.goingAway, reason: "the gateway is shutting down", discardingQueue: true)
        }
        let deadline = ContinuousClock.now + settings.closeTimeout
        while router.hasConnections, ContinuousClock.now < deadline {
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
