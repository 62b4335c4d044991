import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import TestSupport

/// A WebSocket client driven step by step by a test: send messages, read
/// frames in order, see how the server closed the connection.
final class TestWebSocket: Sendable {
    enum Event: Sendable {
        case text(String)
        case closed(WebSocketErrorCode?)
    }

    private enum Command: Sendable {
        case text(String)
        case binary([UInt8])
        case close
    }

    let events: AsyncStream<Event>
    private let commands: AsyncStream<Command>.Continuation
    private let startReading: AsyncStream<Never>.Continuation
    private let task: Task<Void, Never>

    /// Connects to `path` and returns once the upgrade succeeded (throws if it was refused).
    /// With `reading: false` the client reads nothing until `resumeReading()`, like a stalled browser tab.
    init(port: Int, path: String, headers: HTTPFields = [.authorization: "Bearer \(GatewayProcess.token)"], reading: Bool = true) async throws {
        let (events, eventSink) = AsyncStream<Event>.makeStream()
        let (commands, commandSink) = AsyncStream<Command>.makeStream()
        let (readingGate, startReading) = AsyncStream<Never>.makeStream()
        if reading { startReading.finish() }
        let opened = OneShot<Void>()
        self.events = events
        self.commands = commandSink
        self.startReading = startReading
        task = Task {
            do {
                let close = try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(path)",
                    configuration: .init(maxFrameSize: 1 << 26, additionalHeaders: headers, closeTimeout: .seconds(2)),
                    logger: testLogger
                ) { inbound, outbound, _ in
                    opened.resume(with: .success(()))
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await _ in readingGate {}
                            for try await message in inbound.messages(maxSize: .max) {
                                if case .text(let text) = message { eventSink.yield(.text(text)) }
                            }
                        }
                        group.addTask {
                            for await command in commands {
                                switch command {
                                case .text(let text): try await outbound.write(.text(text))
                                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                case .close: return
                                }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
                eventSink.yield(.closed(close?.closeCode))
            } catch {
                opened.resume(with: .failure(error))
                eventSink.yield(.closed(nil))
            }
            eventSink.finish()
        }
        try await opened.value()
    }

    deinit {
        commands.finish()
        task.cancel()
    }

    func send(_ text: String) {
        commands.yield(.text(text))
    }

    func send<Value: Encodable>(json value: Value) {
        send(String(decoding: try! JSONEncoder().encode(value), as: UTF8.self))
    }

    func sendBinary(_ bytes: [UInt8]) {
        commands.yield(.binary(bytes))
    }

    func close() async {
        commands.yield(.close)
        await task.value
    }

    func resumeReading() {
        startReading.finish()
    }

    /// Reads frames in order; for use by one test task.
    func reader() -> FrameReader { FrameReader(iterator: events.makeAsyncIterator()) }
}

/// One frame as the client got it.
struct ReceivedFrame: CustomStringConvertible {
    let text: String
    let json: [String: Any]

    var type: String { json["type"] as? String ?? "" }
    var id: String? { json["id"] as? String }
    var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
    var lines: [[String: Any]] {
        switch type {
        case "log.line": [data]
        case "log.lines", "log.history": data["lines"] as? [[String: Any]] ?? []
        default: []
        }
    }
    var seqs: [Int] { lines.compactMap { $0["seq"] as? Int } }
    var errorCode: String? { data["code"] as? String }
    var description: String { text.count > 300 ? String(text.prefix(300)) + "…" : text }
}

struct FrameReader {
    var iterator: AsyncStream<TestWebSocket.Event>.Iterator
    /// How the server closed the connection, once it did.
    private(set) var closeCode: WebSocketErrorCode??

    /// The next frame, or nil once the connection closed.
    mutating func next() async -> ReceivedFrame? {
        guard closeCode == nil, let event = await iterator.next() else { return nil }
        switch event {
        case .text(let text):
            let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return ReceivedFrame(text: text, json: json)
        case .closed(let code):
            closeCode = .some(code)
            return nil
        }
    }

    /// The next frame of `type`, skipping others.
    mutating func next(_ type: String) async -> ReceivedFrame? {
        while let frame = await next() {
            if frame.type == type { return frame }
        }
        return nil
    }

    /// The code the server closed the connection with, once it did.
    var serverCloseCode: WebSocketErrorCode? { closeCode ?? nil }

    /// Reads until the connection closes; returns the server's close code.
    mutating func closed() async -> WebSocketErrorCode? {
        while await next() != nil {}
        return serverCloseCode
    }
}
