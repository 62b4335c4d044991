import Logging

/// A connection in subscriber mode: channels can be added and removed at any
/// time. Its messages and connection changes, in the order they happened, go to
/// one consumer: a task reading them as an `AsyncSequence`, or a handler called
/// on the connection's I/O thread.
///
/// After a reconnect it subscribes to every channel again and reports
/// `.reconnected`, so its user knows messages may have been missed.
public final class RedisSubscriber: Sendable {
    private let connection: RedisConnection

    /// A subscriber whose events are handed to `handler` on its connection's I/O thread,
    /// in order, a read of the socket at a time: a consumer that only routes messages
    /// elsewhere then costs no task wake-up per read. `handler` must return quickly: brief
    /// locks, no I/O and no waiting for a task, since the connection reads nothing (and
    /// answers no command) meanwhile. A handler is never behind, so `subscriberBacklogLimit`
    /// does not apply to it.
    public convenience init(
        configuration: RedisConfiguration,
        logger: Logger,
        handler: @escaping @Sendable (ArraySlice<RedisSubscriberEvent>) -> Void
    ) {
        self.init(configuration: configuration, logger: logger, sink: SubscriberEventSink(receiver: .handler(handler)))
    }

    /// A subscriber and its events, an `AsyncSequence` with one consumer.
    public static func withEvents(configuration: RedisConfiguration, logger: Logger) -> (RedisSubscriber, RedisSubscriberEvents) {
        let (events, sink) = SubscriberEventSink.makePair()
        return (RedisSubscriber(configuration: configuration, logger: logger, sink: sink), events)
    }

    private init(configuration: RedisConfiguration, logger: Logger, sink: SubscriberEventSink) {
        connection = RedisConnection(configuration: configuration, logger: logger, subscriberEvents: sink)
    }

    /// Returns once Redis has confirmed every channel: messages published after this are delivered.
    public func subscribe(_ channels: [String]) async throws {
        try await change(.subscribe(channels), command: "SUBSCRIBE", channels: channels)
    }

    public func unsubscribe(_ channels: [String]) async throws {
        try await change(.unsubscribe(channels), command: "UNSUBSCRIBE", channels: channels)
    }

    public func close() {
        connection.close()
    }

    private func change(_ change: ConnectionRequest.SubscriptionChange, command: String, channels: [String]) async throws {
        guard !channels.isEmpty else { return }
        // Redis acknowledges each channel with a reply of its own.
        _ = try await connection.submit(
            encoded: RedisCommand(command, channels.map { .string($0) }).encoded,
            replyCount: channels.count,
            subscriptionChange: change
        )
    }
}
