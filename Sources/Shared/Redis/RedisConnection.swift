import Foundation
import Logging

/// One connection to Redis, driven by a dedicated I/O thread.
///
/// hiredis is a blocking C library; running it on its own thread keeps it off
/// NIO event loops and the Swift cooperative pool. Callers only enqueue
/// requests and await their replies. Requests from concurrent callers are
/// written together, so under load many commands share one round trip.
public final class RedisConnection: Sendable {
    private let mailbox = ConnectionMailbox()
    private let commandTimeout: Duration

    /// A connection for commands; it connects at once and reconnects on its own.
    public convenience init(configuration: RedisConfiguration, logger: Logger) {
        self.init(configuration: configuration, logger: logger, subscriberEvents: nil)
    }

    init(configuration: RedisConfiguration, logger: Logger, subscriberEvents: SubscriberEventSink?) {
        commandTimeout = configuration.commandTimeout
        // The loop is made on, and confined to, its own thread.
        let thread = Thread { [mailbox] in
            ConnectionLoop(
                configuration: configuration,
                mailbox: mailbox,
                logger: logger,
                subscriberEvents: subscriberEvents
            ).run()
        }
        thread.name = "redis-io"
        thread.start()
    }

    deinit {
        mailbox.close()
    }

    /// Runs one command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await submit(encoded: command.encoded, replyCount: 1)[0].checked()
    }

    /// Runs commands in one round trip. Error replies stay in place as `.error`
    /// values so one failing command does not hide the others' results.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        guard commands.count > 1 else {
            return commands.isEmpty ? [] : try await submit(encoded: commands[0].encoded, replyCount: 1)
        }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(commands.reduce(0) { $0 + $1.encoded.count })
        for command in commands { encoded.append(contentsOf: command.encoded) }
        return try await submit(encoded: encoded, replyCount: commands.count)
    }

    /// Closes the connection; waiting requests fail with `RedisError.closed`.
    public func close() {
        mailbox.close()
    }

    func submit(
        encoded: [UInt8],
        replyCount: Int,
        subscriptionChange: ConnectionRequest.SubscriptionChange? = nil
    ) async throws -> [RESPValue] {
        // Cancellation is not forwarded: a written command cannot be taken back,
        // and every request ends by its reply or its deadline.
        try await withCheckedThrowingContinuation { continuation in
            let request = ConnectionRequest(
                encoded: encoded,
                replyCount: replyCount,
                deadline: .now + commandTimeout,
                continuation: continuation,
                subscriptionChange: subscriptionChange
            )
            if !mailbox.post(request) {
                continuation.resume(throwing: RedisError.closed)
            }
        }
    }
}
