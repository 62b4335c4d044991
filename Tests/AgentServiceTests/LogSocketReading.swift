import NIOCore
@testable import AgentService

/// A log's body read in a test as `LogFollower` reads it: on a thread of its own.
extension DockerLogSocket {
    /// The whole body of `request`.
    @discardableResult
    static func collect(_ request: DockerLogRequest) async throws -> [UInt8] {
        try await readAll(request) { _ in }
    }

    /// Reads `request`'s body on a thread of its own until it ends or the task is cancelled,
    /// handing on each read; returns the whole body.
    @discardableResult
    static func readAll(
        _ request: DockerLogRequest,
        onOpen: @escaping @Sendable () -> Void = {},
        onRead: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> [UInt8] {
        try await runOnDedicatedThread(named: "test-log-reader") { cancellation in
            let socket = try DockerLogSocket(request, cancellation: cancellation)
            onOpen()
            var body: [UInt8] = []
            while true {
                var chunk = ByteBuffer()
                guard try socket.read(into: &chunk, cancellation: cancellation, deadline: .distantFuture) else { return body }
                onRead(Array(chunk.readableBytesView))
                body += chunk.readableBytesView
            }
        }
    }
}
