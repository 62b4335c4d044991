import Foundation
import Synchronization

/// What one load-client connection received, and the request waiting for its reply,
/// whichever transport carries the WebSocket (`LoadConnection`). It tallies every line
/// (see `DeliveryTally`) as cheaply as it can, since thousands of connections share two
/// cores with the stack they measure.
final class ConnectionInbox: Sendable {
    /// A reply a request waits for, and what it carried.
    enum ReplyKind: Sendable { case history, unsubscribed }
    struct Reply: Sendable {
        /// Wall-clock receipt time, ns since 1970.
        var receivedAt: Int64
        var lineCount: Int
    }

    private struct State {
        var tally = DeliveryTally()
        var window: MeasureWindow?
        var waiter: (kind: ReplyKind, continuation: CheckedContinuation<Reply, any Error>)?
        /// The latest `error` / `log.stream.error` that no request was waiting for.
        var unexpectedError: String?
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Waits for the reply of `kind` to what `send` sends. One request at a time per connection.
    func awaitReply(_ kind: ReplyKind, after send: () throws -> Void) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let isOpen = state.withLock { state in
                precondition(state.waiter == nil, "one request at a time per connection")
                if !state.isClosed { state.waiter = (kind, continuation) }
                return !state.isClosed
            }
            guard isOpen else {
                continuation.resume(throwing: BenchError("the WebSocket is closed"))
                return
            }
            do {
                try send()
            } catch {
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.continuation.resume(throwing: error)
            }
        }
    }

    /// From now on, time the live lines Docker stamps inside `window`.
    func measure(_ window: MeasureWindow) {
        state.withLock { $0.window = window }
    }

    var tally: DeliveryTally { state.withLock { $0.tally.withoutLatencies } }
    /// Hands over the latency samples (and forgets them).
    func takeLatencies() -> [Int32] { state.withLock { state in defer { state.tally.latencies = [] }; return state.tally.latencies } }
    var unexpectedError: String? { state.withLock { $0.unexpectedError } }

    /// Takes one whole WebSocket message, received at `receivedAt` (ns since 1970).
    func receive(_ bytes: UnsafeRawBufferPointer, at receivedAt: Int64) {
        let reply = state.withLock { Self.handle(bytes, receivedAt: receivedAt, state: &$0) }
        reply?()
    }

    /// The connection is over: a request still waiting fails, later ones fail at once.
    /// - Parameter error: what ended it, if not a close: kept as `unexpectedError` for the report.
    func closed(by error: (any Error)? = nil) {
        let waiter = state.withLock { state in
            state.isClosed = true
            if let error { state.unexpectedError = "the WebSocket failed: \(error)" }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(throwing: BenchError("the WebSocket closed"))
    }

    /// Updates the tally; returns the resumption of a waiting request, to run outside the lock.
    private static func handle(_ bytes: UnsafeRawBufferPointer, receivedAt: Int64, state: inout State) -> (@Sendable () -> Void)? {
        switch GatewayMessageScanner.kind(of: bytes) {
        case .line, .lines:
            let window = state.window
            GatewayMessageScanner.forEachLine(in: bytes, timestamps: window != nil) { seq, timestamp in
                state.tally.received(liveSeq: seq, timestamp: timestamp, at: receivedAt, window: window)
            }
            return nil
        case .history:
            var count = 0
            var last: Int?
            GatewayMessageScanner.forEachLine(in: bytes, timestamps: false) { seq, _ in
                count += 1
                last = seq
            }
            state.tally.receivedHistory(lineCount: count, lastSeq: last)
            return resumeWaiter(.history, Reply(receivedAt: receivedAt, lineCount: count), state: &state)
        case .control:
            return handleControl(Data(bytes), receivedAt: receivedAt, state: &state)
        }
    }

    private static func handleControl(_ json: Data, receivedAt: Int64, state: inout State) -> (@Sendable () -> Void)? {
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any], let type = object["type"] as? String else {
            state.unexpectedError = "unreadable message: \(String(decoding: json.prefix(200), as: UTF8.self))"
            return nil
        }
        let data = object["data"] as? [String: Any] ?? [:]
        switch type {
        case "log.gap":
            if let from = data["fromSeq"] as? Int, let to = data["toSeq"] as? Int { state.tally.receivedGap(from: from, to: to) }
            return nil
        case "log.unsubscribed":
            return resumeWaiter(.unsubscribed, Reply(receivedAt: receivedAt, lineCount: 0), state: &state)
        case "error", "log.stream.error":
            let description = "\(type) \(data["code"] ?? "?"): \(data["message"] ?? "")"
            // Replies carry the request's id; a stream error without one is an event.
            if object["id"] != nil, let waiter = state.waiter {
                state.waiter = nil
                return { waiter.continuation.resume(throwing: BenchError(description)) }
            }
            state.unexpectedError = description
            return nil
        default:
            return nil
        }
    }

    private static func resumeWaiter(_ kind: ReplyKind, _ reply: Reply, state: inout State) -> (@Sendable () -> Void)? {
        guard let waiter = state.waiter, waiter.kind == kind else { return nil }
        state.waiter = nil
        return { waiter.continuation.resume(returning: reply) }
    }
}
