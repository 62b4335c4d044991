import DequeModule
import NIOCore
import NIOWebSocket
import Shared
import Synchronization

/// The outbound side of one log WebSocket: a queue bounded in bytes, filled
/// by the Redis subscriber's thread (live frames, through `FrameRouter`) and by the session (replies), drained by
/// the connection's `LogSocketHandler` on its event loop.
///
/// Nobody ever waits for a client here: when the queue is full, that
/// client's live lines are dropped, remembered as a seq range per stream,
/// and reported as `log.gap` once the queue has room again. Replies and
/// stream events are never dropped (a client that never reads cannot make
/// them pile up: its session waits for room before reading its next message).
///
/// While a subscription waits for its history (a subscribe, or the recovery
/// after a Redis outage), its live frames are held back and merged by `seq`
/// when the history is in, so nothing is missing or repeated at the seam.
final class ClientOutbox: Sendable {
    /// Sent as one WebSocket text message each.
    struct Batch {
        var frames: [ByteBuffer] = []
        var lineCount = 0
        var byteCount = 0
    }

    struct CloseRequest: Sendable {
        var code: WebSocketErrorCode
        var reason: String
    }

    /// What the connection's writer is to do now.
    enum Output {
        case write(Batch)
        /// Nothing to write: the writer is woken once there is.
        case wait
        /// Close the connection with this request; nil when the client is gone.
        case close(CloseRequest?)
    }

    /// A subscription's state at the start of a history read, to hand back when it is done.
    struct Ticket: Sendable {
        var generation: Int
        /// The last line the client got before (nil for a new subscription).
        var last: LinePosition?
    }

    /// Consecutive frames of one stream, as `FrameRouter` hands them over.
    struct Run: Sendable {
        var stream: StreamKey
        var frames: [StreamFrame]
    }

    fileprivate enum Item {
        /// Replies, history, stream events: never dropped.
        case control(ByteBuffer)
        /// Consecutive lines of one stream: one `log.lines` frame for a batching
        /// subscription, else one `log.line` frame each (then a run holds one line).
        case lines(LineRun)

        var byteCount: Int {
            switch self {
            case .control(let bytes): bytes.readableBytes
            case .lines(let run): run.byteCount
            }
        }
    }

    fileprivate struct LineRun {
        let stream: StreamKey
        let batchable: Bool
        var frames: [StreamFrame]
        var byteCount: Int
    }

    fileprivate struct Subscription {
        var batchable: Bool
        /// Changes with every subscribe and recovery, so a stale history read cannot end a newer one's wait.
        var generation = 0
        /// Frames that arrived while the subscription waits for its history.
        var heldBack: Deque<StreamFrame>?
        var heldBackBytes = 0
        /// The oldest held-back lines, dropped to make room for newer ones.
        var droppedWhileHeldBack: ClosedRange<Int>?
        /// The last line passed on: queued, or dropped and to be reported.
        var last: LinePosition?
        /// Dropped lines not yet reported as `log.gap`.
        var dropped: ClosedRange<Int>?
    }

    fileprivate enum Closing {
        /// The client is gone: stop at once.
        case abandoned
        /// Close with this code once the queue is written (or at once, the queue discarded).
        case requested(CloseRequest)
    }

    fileprivate struct State {
        var queue: Deque<Item> = []
        /// Bytes queued or being written.
        var pendingBytes = 0
        /// Set when a line did not fit; lines are dropped until the queue is down to half.
        var isShedding = false
        var subscriptions: [StreamKey: Subscription] = [:]
        var closing: Closing?
        /// Wakes the writer, which waits for something to write.
        var writer: (@Sendable () -> Void)?
        var readerWaitingForRoom: CheckedContinuation<Void, Never>?
    }

    private static let nextID = Atomic<Int>(0)
    /// Unique among the connections of this process.
    let id = ClientOutbox.nextID.wrappingAdd(1, ordering: .relaxed).newValue
    private let limit: Int
    private let metrics: GatewayMetrics
    private let state = Mutex(State())
    /// How much one batch takes from the queue: enough to batch lines, little enough to keep frames small.
    fileprivate static let batchLimit = 256 * 1024

    init(limit: Int, metrics: GatewayMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    // MARK: Filling

    /// Queues a reply or other frame that is never dropped.
    func send(_ frame: ByteBuffer) {
        let writer = state.withLock { state in
            state.enqueue(.control(frame))
            return state.takeWriter()
        }
        writer?()
    }

    /// Live frames from the streams' Redis channels, in order (called by `FrameRouter` on
    /// the subscriber's thread, never blocks): one lock and at most one writer wake-up for them all,
    /// and one look-up of its subscription per run of a stream's frames.
    func deliver(_ runs: [Run]) {
        let (writer, dropped) = state.withLock { state in
            var dropped = 0
            for run in runs {
                dropped += state.pass(run.frames, of: run.stream, limit: limit)
            }
            return (state.takeWriter(), dropped)
        }
        if dropped > 0 { metrics.linesDropped.increment(by: dropped) }
        writer?()
    }

    /// Starts (or restarts) a subscription: its live frames are held back until `completeSubscription`.
    func beginSubscription(to stream: StreamKey, batchable: Bool) -> Ticket {
        state.withLock { state in
            var subscription = state.subscriptions[stream] ?? Subscription(batchable: batchable)
            subscription.batchable = batchable
            subscription.generation += 1
            subscription.heldBack = subscription.heldBack ?? []
            state.subscriptions[stream] = subscription
            return Ticket(generation: subscription.generation, last: subscription.last)
        }
    }

    /// Queues the replies to a subscribe (`log.subscribed`, `log.history`, …), then
    /// the held-back live lines that come after `historyEnd`, and goes live.
    func completeSubscription(to stream: StreamKey, ticket: Ticket, replies: [ByteBuffer], historyEnd: LinePosition?) {
        let (writer, dropped) = state.withLock { state in
            for reply in replies { state.enqueue(.control(reply)) }
            let dropped = state.releaseHeldBack(of: stream, generation: ticket.generation, after: historyEnd, limit: limit)
            return (state.takeWriter(), dropped)
        }
        if dropped > 0 { metrics.linesDropped.increment(by: dropped) }
        writer?()
    }

    func endSubscription(to stream: StreamKey) {
        state.withLock { _ = $0.subscriptions.removeValue(forKey: stream) }
    }

    /// After Redis came back: holds back the live frames of every live
    /// subscription until `completeRecovery` says what was missed.
    func beginRecovery() -> [StreamKey: Ticket] {
        state.withLock { state in
            var tickets: [StreamKey: Ticket] = [:]
            for (stream, var subscription) in state.subscriptions where subscription.heldBack == nil {
                subscription.generation += 1
                subscription.heldBack = []
                state.subscriptions[stream] = subscription
                tickets[stream] = Ticket(generation: subscription.generation, last: subscription.last)
            }
            return tickets
        }
    }

    /// Queues `log.gap` for what could not be recovered, the recovered lines, then the held-back ones.
    func completeRecovery(of stream: StreamKey, ticket: Ticket, missed: HistoryWindow.Continuation?) {
        let (writer, dropped) = state.withLock { state -> ((@Sendable () -> Void)?, Int) in
            guard state.subscriptions[stream]?.generation == ticket.generation else { return (nil, 0) }
            if let missing = missed?.missing {
                state.enqueue(.control(LineFrames.control(.gap, GapPayload(stream, missing))))
            }
            var dropped = state.pass(missed?.lines ?? [], of: stream, limit: limit, ignoringHeldBack: true)
            dropped += state.releaseHeldBack(of: stream, generation: ticket.generation, after: nil, limit: limit)
            return (state.takeWriter(), dropped)
        }
        if dropped > 0 { metrics.linesDropped.increment(by: dropped) }
        writer?()
    }

    // MARK: Draining

    /// The next frames to write; when there are none, `wake` is called (once) as soon as there are.
    func next(wakingWhenReady wake: @escaping @Sendable () -> Void) -> Output {
        enum Next {
            case items([Item])
            case wait
            case close(CloseRequest?)
        }
        let next: Next = state.withLock { state in
            if case .abandoned? = state.closing { return .close(nil) }
            state.queueUnreportedGaps()
            guard !state.queue.isEmpty else {
                guard case .requested(let request)? = state.closing else {
                    state.writer = wake
                    return .wait
                }
                return .close(request)
            }
            var items: [Item] = []
            var bytes = 0
            while let item = state.queue.first, items.isEmpty || bytes + item.byteCount <= Self.batchLimit {
                state.queue.removeFirst()
                items.append(item)
                bytes += item.byteCount
            }
            return .items(items)
        }
        switch next {
        case .items(let items): return .write(Self.batch(items))
        case .wait: return .wait
        case .close(let request): return .close(request)
        }
    }

    /// Called by the writer once a batch is in the channel's buffers.
    func didWrite(_ batch: Batch) {
        let reader = state.withLock { state in
            state.pendingBytes -= batch.byteCount
            state.updateShedding(limit: limit)
            guard state.pendingBytes < limit else { return nil as CheckedContinuation<Void, Never>? }
            defer { state.readerWaitingForRoom = nil }
            return state.readerWaitingForRoom
        }
        reader?.resume()
    }

    /// Returns once the queue has room (or the connection closes): the
    /// session reads its client's next message only then.
    func waitForRoom() async {
        await withCheckedContinuation { continuation in
            let hasRoom = state.withLock { state in
                guard state.pendingBytes >= limit, state.closing == nil else { return true }
                state.readerWaitingForRoom = continuation
                return false
            }
            if hasRoom { continuation.resume() }
        }
    }

    /// Asks the writer to close the connection with `code`: after writing what
    /// is queued, or at once with the queue discarded. The first request wins.
    func close(_ code: WebSocketErrorCode, reason: String, discardingQueue: Bool) {
        end(.requested(CloseRequest(code: code, reason: reason)), discardingQueue: discardingQueue)
    }

    /// The client is gone: the writer stops without writing anything more
    /// (unless a close was asked for before: that one is carried out).
    func abandon() {
        end(.abandoned, discardingQueue: true)
    }

    private func end(_ closing: Closing, discardingQueue: Bool) {
        let (writer, reader) = state.withLock { state in
            guard state.closing == nil else { return (nil, nil) as ((@Sendable () -> Void)?, CheckedContinuation<Void, Never>?) }
            state.closing = closing
            if discardingQueue {
                state.pendingBytes -= state.queue.reduce(0) { $0 + $1.byteCount }
                state.queue.removeAll()
            }
            defer { state.readerWaitingForRoom = nil }
            return (state.takeWriter(), state.readerWaitingForRoom)
        }
        writer?()
        reader?.resume()
    }

    /// Turns queued items into frames: a run of lines of a batching subscription becomes one `log.lines`.
    private static func batch(_ items: [Item]) -> Batch {
        var batch = Batch()
        for item in items {
            batch.byteCount += item.byteCount
            switch item {
            case .control(let bytes):
                batch.frames.append(bytes)
            case .lines(let run) where run.frames.count == 1:
                batch.frames.append(run.frames[0].bytes)
                batch.lineCount += 1
            case .lines(let run):
                batch.frames.append(LineFrames.lines(stream: run.stream, lines: run.frames))
                batch.lineCount += run.frames.count
            }
        }
        return batch
    }
}

extension ClientOutbox.State {
    mutating func enqueue(_ item: ClientOutbox.Item) {
        queue.append(item)
        pendingBytes += item.byteCount
    }

    /// Queues a line onto `run`, the run being filled (out of the queue meanwhile): the
    /// queue's last run when it is the same batching stream's, taken out once for a
    /// whole pass rather than once per line; a run of its own when it cannot batch.
    mutating func enqueueLine(_ frame: StreamFrame, of stream: StreamKey, batchable: Bool, into run: inout ClientOutbox.LineRun?) {
        let size = frame.bytes.readableBytes
        pendingBytes += size
        if run == nil, batchable, case .lines(let last)? = queue.last, last.batchable, last.stream == stream {
            run = last
            queue.removeLast()  // the run's only owner now: appending does not copy its frames
        }
        if batchable, let byteCount = run?.byteCount, byteCount + size <= ClientOutbox.batchLimit {
            run?.frames.append(frame)
            run?.byteCount += size
            return
        }
        putBack(&run)
        run = ClientOutbox.LineRun(stream: stream, batchable: batchable, frames: [frame], byteCount: size)
    }

    /// Ends the filling of a run: back onto the end of the queue (its bytes were counted line by line).
    mutating func putBack(_ run: inout ClientOutbox.LineRun?) {
        guard let filled = run else { return }
        run = nil
        queue.append(.lines(filled))
    }

    /// The writer, if it waits: to wake after a change (it looks for work itself).
    mutating func takeWriter() -> (@Sendable () -> Void)? {
        defer { writer = nil }
        return writer
    }

    mutating func updateShedding(limit: Int) {
        if isShedding, pendingBytes <= limit / 2 { isShedding = false }
    }

    /// Passes frames of `stream` towards the client, in order; returns how many lines were dropped.
    mutating func pass(_ frames: some Collection<StreamFrame>, of stream: StreamKey, limit: Int, ignoringHeldBack: Bool = false) -> Int {
        guard !frames.isEmpty else { return 0 }
        if !ignoringHeldBack, subscriptions[stream]?.heldBack != nil {
            // In place: a copy of the subscription would copy its held-back frames.
            return frames.reduce(0) { dropped, frame in dropped + (subscriptions[stream]?.holdBack(frame, limit: limit) ?? 0) }
        }
        guard var subscription = subscriptions[stream] else { return 0 }
        var run: ClientOutbox.LineRun?
        defer {
            putBack(&run)
            subscriptions[stream] = subscription
        }
        var dropped = 0
        for frame in frames {
            guard let position = frame.position else {
                putBack(&run)
                enqueue(.control(frame.bytes))
                continue
            }
            guard position.follows(subscription.last) else { continue }
            if position.epoch != subscription.last?.epoch { subscription.dropped = nil }
            subscription.last = position
            updateShedding(limit: limit)
            if isShedding || pendingBytes + frame.bytes.readableBytes > limit {
                isShedding = true
                subscription.dropped = subscription.dropped.including(position.seq...position.seq)
                dropped += 1
                continue
            }
            if let gap = subscription.dropped {
                putBack(&run)
                enqueue(.control(LineFrames.control(.gap, GapPayload(stream, gap))))
                subscription.dropped = nil
            }
            enqueueLine(frame, of: stream, batchable: subscription.batchable, into: &run)
        }
        return dropped
    }

    /// Ends a wait for history: the held-back frames after `historyEnd` go out, then the subscription is live.
    mutating func releaseHeldBack(of stream: StreamKey, generation: Int, after historyEnd: LinePosition?, limit: Int) -> Int {
        guard var subscription = subscriptions[stream], subscription.generation == generation,
            let heldBack = subscription.heldBack
        else { return 0 }
        if let historyEnd, historyEnd.follows(subscription.last) { subscription.last = historyEnd }
        // Lines dropped while held back are older than every held-back one; those
        // the history (or recovery) did not cover become a gap before them.
        if let unseen = subscription.droppedWhileHeldBack?.clamped(after: subscription.last?.seq ?? 0) {
            subscription.dropped = subscription.dropped.including(unseen)
            subscription.last = LinePosition(epoch: subscription.last?.epoch ?? "", seq: unseen.upperBound)
        }
        subscription.heldBack = nil
        subscription.heldBackBytes = 0
        subscription.droppedWhileHeldBack = nil
        subscriptions[stream] = subscription
        return pass(heldBack, of: stream, limit: limit)
    }

    var hasUnreportedGaps: Bool {
        subscriptions.values.contains { $0.dropped != nil && $0.heldBack == nil }
    }

    /// An idle stream's drops are reported when the queue has room, not only before its next line.
    mutating func queueUnreportedGaps() {
        guard !isShedding, hasUnreportedGaps else { return }
        for (stream, subscription) in subscriptions {
            guard let dropped = subscription.dropped, subscription.heldBack == nil else { continue }
            enqueue(.control(LineFrames.control(.gap, GapPayload(stream, dropped))))
            subscriptions[stream]?.dropped = nil
        }
    }
}

extension ClientOutbox.Subscription {
    /// Holds a frame back during a history read, dropping the oldest held-back
    /// lines when they exceed `limit`; returns how many lines were dropped.
    ///
    /// The oldest go first because the newest are the ones the history cannot
    /// hold: a stream catching up at full speed fills the limit with lines that
    /// the history read, when it completes, already covers.
    mutating func holdBack(_ frame: StreamFrame, limit: Int) -> Int {
        guard var frames = heldBack else { return 0 }
        heldBack = nil  // one owner of the buffer while it changes: no copy
        defer { heldBack = frames }
        frames.append(frame)
        heldBackBytes += frame.bytes.readableBytes
        var dropped = 0
        // Stream events are never dropped: only lines give way.
        while heldBackBytes > limit, let index = frames.firstIndex(where: { $0.position != nil }) {
            let oldest = frames.remove(at: index)
            heldBackBytes -= oldest.bytes.readableBytes
            if let seq = oldest.position?.seq { droppedWhileHeldBack = droppedWhileHeldBack.including(seq...seq) }
            dropped += 1
        }
        return dropped
    }
}

extension Optional where Wrapped == ClosedRange<Int> {
    /// The smallest range covering this one (if any) and `seqs`.
    func including(_ seqs: ClosedRange<Int>) -> ClosedRange<Int> {
        guard let range = self else { return seqs }
        return Swift.min(range.lowerBound, seqs.lowerBound)...Swift.max(range.upperBound, seqs.upperBound)
    }
}

extension ClosedRange<Int> {
    /// The part above `seq`, if any.
    func clamped(after seq: Int) -> ClosedRange<Int>? {
        upperBound > seq ? Swift.max(lowerBound, seq + 1)...upperBound : nil
    }
}

extension GapPayload {
    init(_ stream: StreamKey, _ seqs: ClosedRange<Int>) {
        self.init(agentId: stream.agent.rawValue, containerId: stream.container.rawValue, fromSeq: seqs.lowerBound, toSeq: seqs.upperBound)
    }
}
