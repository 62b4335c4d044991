import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import TestSupport

/// One WebSocket connection of the load client to `/api/logs/ws`: sends requests,
/// and tallies every line it receives (see `DeliveryTally`) as cheaply as it can,
/// since thousands of these share two cores with the stack they measure.
final class LoadConnection: Sendable {
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

    /// The state the reader task shares with callers; a class so that task can hold it.
    private final class Inbox: Sendable {
        let state = Mutex(State())
    }

    private let inbox = Inbox()
    private let outbound: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>

    /// Connects and returns once the gateway accepted the upgrade.
    init(url: String, token: String, logger: Logger) async throws {
        let (messages, outbound) = AsyncStream<String>.makeStream()
        self.outbound = outbound
        let opened = OneShot<Void>()
        let inbox = self.inbox
        task = Task {
            do {
                _ = try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(
                        maxFrameSize: 1 << 24, additionalHeaders: [.authorization: "Bearer \(token)"],
                        closeTimeout: .seconds(2), autoPing: .disabled, validateUTF8: false
                    ),
                    logger: logger
                ) { inbound, writer, _ in
                    opened.resume(with: .success(()))
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await Self.read(inbound, into: inbox) }
                        group.addTask {
                            for await text in messages { try await writer.write(.text(text)) }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
                opened.resume(with: .failure(BenchError("the gateway closed the WebSocket before it opened")))
            } catch {
                opened.resume(with: .failure(error))
            }
            Self.closed(inbox)
        }
        try await opened.value()
    }

    /// Subscribes to a stream and returns when its `log.history` is in.
    @discardableResult
    func subscribe(agent: String, container: String, tail: Int) async throws -> Reply {
        try await request(
            #"{"type":"log.subscribe","id":1,"data":{"agentId":"\#(agent)","containerId":"\#(container)","tail":\#(tail),"batch":true}}"#,
            until: .history
        )
    }

    func unsubscribe(agent: String, container: String) async throws {
        try await request(
            #"{"type":"log.unsubscribe","id":2,"data":{"agentId":"\#(agent)","containerId":"\#(container)"}}"#,
            until: .unsubscribed
        )
    }

    /// Sends `text` and waits for the reply of `kind`. One request at a time per connection.
    @discardableResult
    func request(_ text: String, until kind: ReplyKind) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let isOpen = inbox.state.withLock { state in
                if !state.isClosed { state.waiter = (kind, continuation) }
                return !state.isClosed
            }
            if isOpen {
                outbound.yield(text)
            } else {
                continuation.resume(throwing: BenchError("the WebSocket is closed"))
            }
        }
    }

    /// From now on, time the live lines Docker stamps inside `window`.
    func measure(_ window: MeasureWindow) {
        inbox.state.withLock { $0.window = window }
    }

    var tally: DeliveryTally { inbox.state.withLock { $0.tally.withoutLatencies } }
    /// Hands over the latency samples (and forgets them).
    func takeLatencies() -> [Int32] { inbox.state.withLock { state in defer { state.tally.latencies = [] }; return state.tally.latencies } }
    var unexpectedError: String? { inbox.state.withLock { $0.unexpectedError } }

    func close() async {
        outbound.finish()
        await task.value
    }

    private static func read(_ inbound: WebSocketInboundStream, into inbox: Inbox) async throws {
        var message = ByteBuffer()
        for try await frame in inbound {
            var data = frame.data
            guard frame.fin else {
                message.writeBuffer(&data)
                continue
            }
            if message.readableBytes > 0 {
                message.writeBuffer(&data)
                data = message
                message = ByteBuffer()
            }
            let receivedAt = WallClock.nanoseconds()
            let reply = data.withUnsafeReadableBytes { bytes in
                inbox.state.withLock { handle(bytes, receivedAt: receivedAt, state: &$0) }
            }
            reply?()
        }
    }

    /// Updates the tally; returns the resumption of a waiting request, to run outside the lock.
    private static func handle(_ bytes: UnsafeRawBufferPointer, receivedAt: Int64, state: inout State) -> (@Sendable () -> Void)? {
        switch GatewayMessageScanner.kind(of: bytes) {
        case .line, .lines:
            let window = state.window
            GatewayMessageScanner.forEachLine(in: bytes) { seq, timestamp in
                state.tally.received(liveSeq: seq, timestamp: timestamp, at: receivedAt, window: window)
            }
            return nil
        case .history:
            var count = 0
            var last: Int?
            GatewayMessageScanner.forEachLine(in: bytes) { seq, _ in
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

    /// The connection is over: a request still waiting fails, later ones fail at once.
    private static func closed(_ inbox: Inbox) {
        let waiter = inbox.state.withLock { state in
            state.isClosed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(throwing: BenchError("the WebSocket closed"))
    }
}
