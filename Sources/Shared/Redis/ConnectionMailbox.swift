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
    private let wakeup: ThreadWakeup
    var wakeupDescriptor: Int32 { wakeup.fileDescriptor }

    init() {
        do {
            wakeup = try ThreadWakeup()
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Queues a request; false when the connection is closed.
    func post(_ request: ConnectionRequest) -> Bool {
        let accepted = state.withLock { state in
            guard !state.isClosed else { return false }
            state.requests.append(request)
            return true
        }
        if accepted { wakeup.signal() }
        return accepted
    }

    func close() {
        state.withLock { $0.isClosed = true }
        wakeup.signal()
    }

    /// Takes every queued request (called by the I/O thread).
    func take() -> (requests: Deque<ConnectionRequest>, isClosed: Bool) {
        wakeup.reset()
        return state.withLock { state in
            defer { state.requests.removeAll() }
            return (state.requests, state.isClosed)
        }
    }
}
