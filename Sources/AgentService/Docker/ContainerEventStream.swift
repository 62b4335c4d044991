import NIOCore

/// Container lifecycle events as Docker reports them, decoded from its NDJSON `/events` body.
/// Iterate it once, inside the closure it was given to.
public struct ContainerEventStream: AsyncSequence {
    public typealias Element = ContainerEvent

    let bytes: DockerByteStream

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(bytes: bytes.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var bytes: DockerByteStream.AsyncIterator
        var splitter = NDJSONSplitter()
        var ended = false

        /// nil when Docker closes the stream (it does so only when the engine shuts down).
        public mutating func next() async throws -> ContainerEvent? {
            while true {
                if let line = try splitter.nextLine() {
                    if let event = try ContainerEvent.decode(line: line.readableBytesView) {
                        return event
                    }
                    continue
                }
                if ended {
                    return nil
                }
                if let chunk = try await bytes.next() {
                    splitter.append(chunk)
                } else {
                    ended = true
                    if let last = splitter.finish(), let event = try ContainerEvent.decode(line: last.readableBytesView) {
                        return event
                    }
                    return nil
                }
            }
        }
    }
}
