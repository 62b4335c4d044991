import DequeModule
import Glibc
import Logging
import NIOCore

/// The I/O thread of one `RedisConnection`: connects, writes queued requests,
/// reads replies and hands them to their waiters, enforces timeouts, and
/// reconnects with backoff. Everything here is confined to that one thread.
final class ConnectionLoop {
    private struct PendingReply {
        var remaining: Int
        var replies: [RESPValue] = []
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<[RESPValue], any Error>?
    }

    private let configuration: RedisConfiguration
    private let mailbox: ConnectionMailbox
    private let logger: Logger
    /// Set for subscriber connections, which route `message` pushes here.
    private var subscriberEvents: SubscriberEventSink?

    private var context: HiredisContext?
    /// Requests waiting for a connection, oldest first.
    private var unsent: Deque<ConnectionRequest> = []
    /// Requests written to Redis, in the order their replies will come.
    private var awaitingReplies: Deque<PendingReply> = []
    /// Channels this subscriber wants, re-subscribed after every reconnect.
    private var channels: Set<String> = []
    private var failedAttempts = 0
    private var nextConnectAttempt = ContinuousClock.now
    private var lastConnectError: RedisError = .connectionUnavailable("not connected yet")
    private var hasConnected = false
    private var nextPing: ContinuousClock.Instant?

    init(
        configuration: RedisConfiguration,
        mailbox: ConnectionMailbox,
        logger: Logger,
        subscriberEvents: SubscriberEventSink?
    ) {
        self.configuration = configuration
        self.mailbox = mailbox
        self.logger = logger
        self.subscriberEvents = subscriberEvents
    }

    func run() {
        while true {
            let (requests, isClosed) = mailbox.take()
            if isClosed {
                shutDown()
                return
            }
            for request in requests { accept(request) }
            if context == nil, ContinuousClock.now >= nextConnectAttempt { connectUnlessBackedUp() }
            if context != nil { writeUnsent() }
            expireDeadlines()
            pingIfIdle()
            waitForIO()
        }
    }

    // MARK: Requests

    private func accept(_ request: ConnectionRequest) {
        switch request.subscriptionChange {
        case .subscribe(let names): channels.formUnion(names)
        case .unsubscribe(let names): channels.subtract(names)
        case nil: break
        }
        unsent.append(request)
    }

    private func writeUnsent() {
        guard let context, !unsent.isEmpty else { return }
        while let request = unsent.popFirst() {
            context.append(request.encoded)
            awaitingReplies.append(
                PendingReply(remaining: request.replyCount, deadline: request.deadline, continuation: request.continuation)
            )
        }
        do {
            try context.flush()
        } catch {
            connectionLost(error)
        }
    }

    // MARK: Replies

    private func readReplies() {
        guard let context else { return }
        do {
            try context.readAvailable()
            let onMessage: ((String, UnsafeRawBufferPointer) -> Void)? =
                subscriberEvents == nil ? nil : { self.subscriberEvents?.collect(channel: $0, payload: $1) }
            while let reply = try context.nextReply(onMessage: onMessage) {
                if case .value(let value) = reply { try dispatch(value) }
            }
            try checkSubscriberBacklog()
        } catch {
            connectionLost(error)
        }
    }

    /// Hands the messages of this read to the consumer. One that falls too far
    /// behind loses the connection, as Redis does to a slow subscriber: memory
    /// stays bounded, and `.disconnected`/`.reconnected` tell it what happened.
    private func checkSubscriberBacklog() throws(RedisError) {
        subscriberEvents?.flush()
        if isSubscriberBackedUp(beyond: configuration.subscriberBacklogLimit) {
            throw .connectionLost("the subscriber's consumer fell more than \(configuration.subscriberBacklogLimit) bytes behind")
        }
    }

    private func isSubscriberBackedUp(beyond limit: Int) -> Bool {
        (subscriberEvents?.backlogBytes ?? 0) > limit
    }

    private func dispatch(_ reply: RESPValue) throws(RedisError) {
        guard !awaitingReplies.isEmpty else {
            throw .connectionLost("unexpected reply \(reply.kindDescription) with no command waiting")
        }
        awaitingReplies[0].replies.append(reply)
        awaitingReplies[0].remaining -= 1
        if awaitingReplies[0].remaining == 0 {
            let completed = awaitingReplies.removeFirst()
            completed.continuation?.resume(returning: completed.replies)
        }
    }

    // MARK: Connection

    /// A subscriber dropped for falling behind reconnects once its consumer has caught up halfway.
    private func connectUnlessBackedUp() {
        guard !isSubscriberBackedUp(beyond: configuration.subscriberBacklogLimit / 2) else {
            nextConnectAttempt = .now + .milliseconds(50)
            return
        }
        connect()
    }

    private func connect() {
        do {
            let context = try HiredisContext.connect(to: configuration.url.endpoint, timeout: configuration.connectTimeout)
            try context.handshake(configuration.url)
            self.context = context
            failedAttempts = 0
            if subscriberEvents != nil {
                resubscribe()
                nextPing = .now + configuration.subscriberPingInterval
            }
            if hasConnected {
                logger.info("reconnected to Redis", metadata: ["redis": "\(configuration.url)"])
                subscriberEvents?.report(.reconnected)
            }
            hasConnected = true
        } catch {
            if failedAttempts == 0 || lastConnectError != error {
                logger.warning("cannot connect to Redis, retrying", metadata: ["redis": "\(configuration.url)", "error": "\(error)"])
            }
            lastConnectError = error
            nextConnectAttempt = .now + configuration.reconnectBackoff.delay(attempt: failedAttempts)
            failedAttempts += 1
        }
    }

    /// After a reconnect, restore every subscription before any queued request runs.
    private func resubscribe() {
        guard !channels.isEmpty else { return }
        unsent.prepend(
            ConnectionRequest(
                encoded: RedisCommand("SUBSCRIBE", channels.sorted().map { .string($0) }).encoded,
                replyCount: channels.count,
                deadline: .now + configuration.commandTimeout
            )
        )
    }

    private func connectionLost(_ error: RedisError) {
        guard context != nil else { return }
        logger.warning("Redis connection lost", metadata: ["redis": "\(configuration.url)", "error": "\(error)"])
        context = nil
        nextPing = nil
        lastConnectError = .connectionUnavailable("\(error)")
        nextConnectAttempt = .now
        failAwaitingReplies(error)
        subscriberEvents?.report(.disconnected(error))
    }

    private func failAwaitingReplies(_ error: RedisError) {
        while let pending = awaitingReplies.popFirst() {
            pending.continuation?.resume(throwing: error)
        }
    }

    // MARK: Time

    private func expireDeadlines() {
        let now = ContinuousClock.now
        if let oldest = awaitingReplies.first, oldest.deadline <= now {
            // Replies on this connection can no longer be matched to commands: start afresh.
            connectionLost(.timeout(configuration.commandTimeout))
        }
        while let oldest = unsent.first, oldest.deadline <= now {
            unsent.removeFirst()
            oldest.continuation?.resume(throwing: lastConnectError)
        }
    }

    private func pingIfIdle() {
        guard let nextPing, context != nil, ContinuousClock.now >= nextPing else { return }
        self.nextPing = .now + configuration.subscriberPingInterval
        guard awaitingReplies.isEmpty, unsent.isEmpty else { return }
        unsent.append(
            ConnectionRequest(
                encoded: RedisCommand("PING").encoded,
                replyCount: 1,
                deadline: .now + configuration.commandTimeout
            )
        )
        writeUnsent()
    }

    private func waitForIO() {
        var descriptors = [pollfd(fd: mailbox.wakeupDescriptor, events: Int16(POLLIN), revents: 0)]
        if let context {
            descriptors.append(pollfd(fd: context.fileDescriptor, events: Int16(POLLIN), revents: 0))
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), pollTimeoutMilliseconds())
        if ready > 0, descriptors.count > 1, descriptors[1].revents != 0 {
            readReplies()
        }
    }

    /// Sleep until the earliest thing that needs doing without I/O: a deadline, a reconnect, a ping.
    private func pollTimeoutMilliseconds() -> Int32 {
        var wakeups = [awaitingReplies.first?.deadline, unsent.first?.deadline]
        if context == nil {
            wakeups.append(nextConnectAttempt)
        } else {
            wakeups.append(nextPing)
        }
        guard let earliest = wakeups.compactMap({ $0 }).min() else { return -1 }
        let milliseconds = (earliest - .now).seconds * 1000
        return Int32(max(0, min(milliseconds.rounded(.up), 60_000)))
    }

    private func shutDown() {
        context = nil
        failAwaitingReplies(.closed)
        while let request = unsent.popFirst() {
            request.continuation?.resume(throwing: RedisError.closed)
        }
        subscriberEvents?.finish()
    }
}
