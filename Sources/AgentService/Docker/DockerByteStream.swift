import AsyncHTTPClient
import NIOCore

/// A streaming response body from Docker, chunk by chunk as it arrives, never buffered whole.
/// Iterate it once. Ending the iteration early (break, or cancelling the consuming task)
/// closes the HTTP connection, which is how a `follow` stream is stopped.
public struct DockerByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let body: HTTPClientResponse.Body
    let http: DockerHTTP

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: body.makeAsyncIterator(), http: http)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator
        let http: DockerHTTP

        /// Throws `DockerError.unreachable` if the engine goes away mid-stream, or `CancellationError`.
        public mutating func next() async throws -> ByteBuffer? {
            do {
                return try await base.next()
            } catch {
                throw http.mapTransportError(error)
            }
        }
    }
}
