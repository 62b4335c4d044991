import Logging
import Shared

/// Which streams this gateway follows in Redis. A stream is followed (its
/// `logs` channel subscribed, its reference taken) from its first local
/// client until a linger after the last one left, so that a page reload does
/// not stop and restart the agent's stream.
///
/// The Redis effects of one stream run one at a time, in the order they were
/// decided: an unsubscribe or release never overtakes a later subscribe.
actor StreamLifecycle {
    private struct Entry {
        /// Local subscriptions on the stream, over all connections.
        var holders = 0
        /// The shared wait for subscribe + acquire, while the stream is followed.
        var activation: Task<Result<Void, any Error>, Never>?
        var linger: Task<Void, Never>?
        var lingerGeneration = 0
        /// The last Redis effect scheduled for this stream; the next one waits for it.
        var lastOperation: Task<Void, Never>?
        var operationCount = 0
    }

    struct ShutDownError: Error, CustomStringConvertible {
        var description: String { "the gateway is shutting down" }
    }

    private let subscriber: RedisSubscriber
    private let references: StreamReferences
    private let linger: Duration
    private let logger: Logger
    private var entries: [StreamKey: Entry] = [:]
    private var isShutDown = false

    init(subscriber: RedisSubscriber, references: StreamReferences, linger: Duration, logger: Logger) {
        self.subscriber = subscriber
        self.references = references
        self.linger = linger
        self.logger = logger
    }

    /// Registers a local client of `stream`; returns once the stream's channel is subscribed
    /// and its reference taken. On error the hold is given back.
    func retain(_ stream: StreamKey) async throws {
        guard !isShutDown else { throw ShutDownError() }
        var entry = entries[stream] ?? Entry()
        entry.holders += 1
        entry.linger?.cancel()
        entry.linger = nil
        if entry.activation == nil {
            entry.activation = schedule(on: &entry) { [self] in
                do {
                    try await follow(stream, resubscribing: true)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        let activation = entry.activation!
        entries[stream] = entry
        if case .failure(let error) = await activation.value {
            // The next client tries afresh.
            if entries[stream]?.activation == activation { entries[stream]?.activation = nil }
            release(stream)
            throw error
        }
    }

    /// A local client of `stream` left; the last one starts the linger.
    func release(_ stream: StreamKey) {
        guard var entry = entries[stream], entry.holders > 0 else { return }
        entry.holders -= 1
        if entry.holders == 0 {
            entry.lingerGeneration += 1
            let generation = entry.lingerGeneration
            entry.linger = Task { [linger] in
                try? await Task.sleep(for: linger)
                guard !Task.isCancelled else { return }
                await self.lingerEnded(stream, generation: generation)
            }
        }
        entries[stream] = entry
    }

    /// Renews the reference of every followed stream (before the lease runs out);
    /// after a Redis reconnect also confirms the channel subscriptions.
    func renewAll(resubscribing: Bool) async {
        var renewals: [Task<Void, Never>] = []
        for stream in entries.keys where entries[stream]?.activation != nil {
            renewals.append(
                schedule(on: &entries[stream]!) { [self] in
                    do {
                        try await follow(stream, resubscribing: resubscribing)
                    } catch {
                        logger.warning("cannot renew the stream's reference", metadata: ["stream": "\(stream)", "error": "\(error)"])
                    }
                }
            )
        }
        for renewal in renewals { await renewal.value }
    }

    /// At shutdown: gives every reference back now, without linger. Later retains fail.
    func releaseAll() -> [Task<Void, Never>] {
        isShutDown = true
        var releases: [Task<Void, Never>] = []
        for stream in entries.keys {
            entries[stream]?.linger?.cancel()
            releases.append(unfollow(stream))
        }
        return releases
    }

    private func lingerEnded(_ stream: StreamKey, generation: Int) {
        guard let entry = entries[stream], entry.holders == 0, entry.lingerGeneration == generation else { return }
        _ = unfollow(stream)
    }

    private func unfollow(_ stream: StreamKey) -> Task<Void, Never> {
        guard var entry = entries[stream] else { return Task {} }
        entry.activation = nil
        entry.linger = nil
        let ticket = entry.operationCount + 1
        let operation = schedule(on: &entry) { [self] in
            do {
                try await references.release(stream)
            } catch {
                logger.warning("cannot release the stream's reference; it expires with its lease", metadata: ["stream": "\(stream)", "error": "\(error)"])
            }
            try? await subscriber.unsubscribe([references.keys.logs(stream.agent, stream.container)])
            await forget(stream, ifLastOperationIs: ticket)
        }
        entries[stream] = entry
        return operation
    }

    private func forget(_ stream: StreamKey, ifLastOperationIs ticket: Int) {
        guard let entry = entries[stream], entry.holders == 0, entry.activation == nil, entry.operationCount == ticket else { return }
        entries[stream] = nil
    }

    private nonisolated func follow(_ stream: StreamKey, resubscribing: Bool) async throws {
        if resubscribing {
            try await subscriber.subscribe([references.keys.logs(stream.agent, stream.container)])
        }
        try await references.acquire(stream)
    }

    /// Runs `operation` after the stream's previous Redis effect.
    private func schedule<Value: Sendable>(on entry: inout Entry, _ operation: @escaping @Sendable () async -> Value) -> Task<Value, Never> {
        let previous = entry.lastOperation
        let task = Task {
            await previous?.value
            return await operation()
        }
        entry.lastOperation = Task { _ = await task.value }
        entry.operationCount += 1
        return task
    }
}
