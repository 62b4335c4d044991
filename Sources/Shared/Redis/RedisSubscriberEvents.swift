import NIOCore
import Synchronization

/// Events a subscriber connection reports besides its own replies.
public enum RedisSubscriberEvent: Sendable, Equatable {
    /// A `PUBLISH`ed message on a subscribed channel.
    case message(channel: String, payload: ByteBuffer)
    /// The connection broke; messages published from now on are lost until `reconnected`.
    case disconnected(RedisError)
    /// The connection is back and every channel is subscribed again.
    case reconnected
}

/// A subscriber's events, in the order they happened; one consumer.
///
/// The I/O thread hands them over a read at a time: one hand-off (a lock and,
/// when the consumer waits, a task wake-up) per read of the socket rather than
/// per message, which is what lets one consumer keep up with a busy channel.
public struct RedisSubscriberEvents: AsyncSequence, Sendable {
    public typealias Element = RedisSubscriberEvent

    let batches: AsyncStream<SubscriberEventBatch>
    let backlog: SubscriberBacklog

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(batches: batches.makeAsyncIterator(), backlog: backlog)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncStream<SubscriberEventBatch>.Iterator
        let backlog: SubscriberBacklog
        var current: [RedisSubscriberEvent] = []
        var index = 0

        public mutating func next() async -> RedisSubscriberEvent? {
            guard await fill() else { return nil }
            defer { index += 1 }
            return current[index]
        }

        /// Whether an event is at `index`, after waiting for the next batch if need be.
        private mutating func fill() async -> Bool {
            while index == current.count {
                guard let batch = await batches.next() else { return false }
                backlog.taken(batch.messageBytes)
                current = batch.events
                index = 0
            }
            return true
        }
    }
}

/// Events handed over together, with the bytes of message payloads among them.
struct SubscriberEventBatch: Sendable {
    var events: [RedisSubscriberEvent] = []
    var messageBytes = 0
}

/// Bytes of messages handed to the consumer and not yet taken by it: how far it is behind.
final class SubscriberBacklog: Sendable {
    private let bytes = Atomic<Int>(0)

    var byteCount: Int { bytes.load(ordering: .relaxed) }

    func added(_ count: Int) {
        bytes.add(count, ordering: .relaxed)
    }

    func taken(_ count: Int) {
        bytes.subtract(count, ordering: .relaxed)
    }
}

/// The I/O thread's end of the events: collects the messages of a read and
/// hands them over together; other events go out at once, after what was collected.
struct SubscriberEventSink {
    /// Where the events go.
    enum Receiver {
        /// To a task reading `RedisSubscriberEvents`, through a buffer whose bytes `backlog` counts.
        case sequence(AsyncStream<SubscriberEventBatch>.Continuation, SubscriberBacklog)
        /// To a handler called on the I/O thread itself: no buffer and no task to wake.
        case handler(@Sendable (ArraySlice<RedisSubscriberEvent>) -> Void)
    }

    private let receiver: Receiver
    /// The channels and payload sizes of the messages collected since the last flush.
    private var collected: [(channel: String, size: Int)] = []
    /// Their payloads, one after the other; reused from flush to flush.
    private var staging = ByteBuffer()

    /// The consumer's end and the I/O thread's end.
    static func makePair() -> (RedisSubscriberEvents, SubscriberEventSink) {
        // Unbounded: the reader of the Redis socket never waits for the consumer;
        // the connection loop bounds the backlog instead (`subscriberBacklogLimit`).
        let (batches, continuation) = AsyncStream.makeStream(of: SubscriberEventBatch.self, bufferingPolicy: .unbounded)
        let backlog = SubscriberBacklog()
        return (RedisSubscriberEvents(batches: batches, backlog: backlog), SubscriberEventSink(receiver: .sequence(continuation, backlog)))
    }

    init(receiver: Receiver) {
        self.receiver = receiver
    }

    /// Bytes of messages handed over and not yet taken: how far the consumer is behind
    /// (a handler is never behind: it runs before the next read).
    var backlogBytes: Int {
        guard case .sequence(_, let backlog) = receiver else { return 0 }
        return backlog.byteCount
    }

    mutating func collect(channel: String, payload: UnsafeRawBufferPointer) {
        collected.append((channel, payload.count))
        staging.writeBytes(payload)
    }

    /// Hands over the messages collected since the last flush.
    ///
    /// The payloads of consecutive messages of one channel are slices of one buffer
    /// of their exact size: one allocation per run instead of one (two, with its
    /// storage object) per message. Per run, not per read, so that a client that
    /// keeps one channel's frames queued keeps no other channel's bytes alive.
    mutating func flush() {
        guard !collected.isEmpty else { return }
        var batch = SubscriberEventBatch(messageBytes: staging.readableBytes)
        batch.events.reserveCapacity(collected.count)
        var runStart = collected.startIndex
        while runStart < collected.endIndex {
            let channel = collected[runStart].channel
            var runEnd = runStart + 1
            while runEnd < collected.endIndex, collected[runEnd].channel == channel { runEnd += 1 }
            let messages = collected[runStart..<runEnd]
            // Its own storage, of its exact size.
            var run = ByteBuffer(buffer: staging.readSlice(length: messages.reduce(0) { $0 + $1.size })!)
            for (_, size) in messages {
                batch.events.append(.message(channel: channel, payload: run.readSlice(length: size)!))
            }
            runStart = runEnd
        }
        collected.removeAll(keepingCapacity: true)
        staging.clear()
        hand(batch)
    }

    mutating func report(_ event: RedisSubscriberEvent) {
        flush()
        hand(SubscriberEventBatch(events: [event]))
    }

    mutating func finish() {
        flush()
        if case .sequence(let continuation, _) = receiver { continuation.finish() }
    }

    private func hand(_ batch: SubscriberEventBatch) {
        switch receiver {
        case .sequence(let continuation, let backlog):
            backlog.added(batch.messageBytes)
            continuation.yield(batch)
        case .handler(let handler):
            handler(batch.events[...])
        }
    }
}
