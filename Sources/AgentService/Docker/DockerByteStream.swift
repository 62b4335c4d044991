import NIOCore

/// A streaming response body from Docker, as it arrives: one buffer per socket read,
/// never buffered whole. Iterate it once, inside the closure it was given to.
public struct DockerByteStream: AsyncSequence {
    public typealias Element = ByteBuffer

    var parts: NIOAsyncChannelInboundStream<DockerResponsePart>.AsyncIterator
    let http: DockerHTTP

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(parts: parts, http: http)
    }

    /// The rest of the body, if it is at most `limit` bytes.
    mutating func collect(upTo limit: Int) async throws -> ByteBuffer {
        var iterator = makeAsyncIterator()
        var collected = ByteBuffer()
        while var chunk = try await iterator.next() {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw DockerError.decoding("answer larger than \(limit) bytes")
            }
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var parts: NIOAsyncChannelInboundStream<DockerResponsePart>.AsyncIterator
        let http: DockerHTTP

        /// nil when the response ended; throws `CancellationError` when the reading task is
        /// cancelled. A streaming GET's body lasts until the connection closes (HTTP/1.0),
        /// so an engine that goes away mid-stream also ends it with nil, unless it cut a
        /// response of known length short (`DockerError.unreachable`).
        public mutating func next() async throws -> ByteBuffer? {
            do {
                while let part = try await parts.next() {
                    if case .body(let bytes) = part { return bytes }
                }
            } catch {
                throw http.mapTransportError(error)
            }
            // A cancelled read ends the sequence early: that is not the end of the response.
            try Task.checkCancellation()
            return nil
        }
    }
}
