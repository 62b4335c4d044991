import Logging

/// A connection in subscriber mode: channels can be added and removed at any
/// time, and messages arrive as an `AsyncSequence` of events.
///
/// After a reconnect it subscribes to every channel again and reports
/// `.reconnected`, so its user knows messages may have been missed.
public final class RedisSubscriber: Sendable {
    /// Messages and connection changes, in the order they happened. One consumer.
    public let events: RedisSubscriberEvents
    private let connection: RedisConnection

    public init(configuration: RedisConfiguration, logger: Logger) {
        let (events, sink) = SubscriberEventSink.makePair()
        self.events = events
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
