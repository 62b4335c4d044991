import CHiredis
import DequeModule
import Glibc
import Synchronization

/// A request handed to a connection's I/O thread: encoded commands and who waits for the replies.
struct ConnectionRequest: Sendable {
    enum SubscriptionChange: Sendable {
        case subscribe([String])
        case unsubscribe([String])
    }

    var encoded: [UInt8]
    /// How many replies complete this request (in subscriber mode: acknowledgements).
    var replyCount: Int
    var deadline: ContinuousClock.Instant
    var continuation: CheckedContinuation<[RESPValue], any Error>?
    var subscriptionChange: SubscriptionChange?
}

/// The only state shared between callers and a connection's I/O thread:
/// a locked queue of requests and an eventfd that wakes the thread's `poll`.
final class ConnectionMailbox: Sendable {
    private struct State {
        var requests: Deque<ConnectionRequest> = []
        var isClosed = false
    }

    private let state = Mutex(State())
    let wakeupDescriptor: Int32

    init() {
        wakeupDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(wakeupDescriptor >= 0, "eventfd failed: errno \(errno)")
    }

    deinit {
        Glibc.close(wakeupDescriptor)
    }

    /// Queues a request; false when the connection is closed.
    func post(_ request: ConnectionRequest) -> Bool {
        let accepted = state.withLock { state in
            guard !state.isClosed else { return false }
            state.requests.append(request)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    func close() {
        state.withLock { $0.isClosed = true }
        wake()
    }

    /// Takes every queued request (called by the I/O thread).
    func take() -> (requests: Deque<ConnectionRequest>, isClosed: Bool) {
        var counter: UInt64 = 0
        _ = read(wakeupDescriptor, &counter, 8)
        return state.withLock { state in
            defer { state.requests.removeAll() }
            return (state.requests, state.isClosed)
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeupDescriptor, &one, 8)
    }
}
