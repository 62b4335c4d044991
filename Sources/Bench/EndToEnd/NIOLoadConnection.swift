import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import TestSupport

/// A load-client connection on NIO's event loops (HummingbirdWSClient): thousands of
/// them share two threads, for the scenarios with many clients.
final class NIOLoadConnection: LoadConnection {
    let inbox = ConnectionInbox()
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
                        maxFrameSize: LoadConnectionLimits.maxMessageSize, additionalHeaders: [.authorization: "Bearer \(token)"],
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
            inbox.closed()
        }
        try await opened.value()
    }

    func send(_ text: String) {
        outbound.yield(text)
    }

    func close() async {
        outbound.finish()
        await task.value
    }

    private static func read(_ inbound: WebSocketInboundStream, into inbox: ConnectionInbox) async throws {
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
            data.withUnsafeReadableBytes { inbox.receive($0, at: receivedAt) }
        }
    }
}
