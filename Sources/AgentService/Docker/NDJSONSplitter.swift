import NIOCore

/// Cuts a byte stream of newline-delimited JSON (Docker's `/events`) into one buffer per
/// object, however the stream was chunked. Pure: feed it chunks, take lines out.
public struct NDJSONSplitter: Sendable {
    /// Refuse to hold more than this without a newline, so a broken stream cannot grow memory without bound.
    public let maximumLineLength: Int
    private var buffer = ByteBuffer()
    /// Bytes after the reader index already known to contain no newline, so each byte is scanned once.
    private var scannedCount = 0

    public init(maximumLineLength: Int = 1 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func append(_ chunk: ByteBuffer) {
        // Drop consumed bytes before growing, keeping the buffer about one line long.
        if buffer.readerIndex > 0 && buffer.readableBytes < buffer.readerIndex {
            buffer.discardReadBytes()
        }
        var chunk = chunk
        buffer.writeBuffer(&chunk)
    }

    /// The next complete line without its newline, skipping empty lines; nil until more bytes arrive.
    public mutating func nextLine() throws(DockerError) -> ByteBuffer? {
        while true {
            let unscanned = buffer.readableBytesView.dropFirst(scannedCount)
            guard let newline = unscanned.firstIndex(of: UInt8(ascii: "\n")) else {
                scannedCount = buffer.readableBytes
                if scannedCount > maximumLineLength {
                    throw .decoding("a JSON line is longer than \(maximumLineLength) bytes")
                }
                return nil
            }
            let length = newline - buffer.readerIndex
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            scannedCount = 0
            if line.readableBytes > 0 {
                return line
            }
        }
    }

    /// What is left once the stream has ended: a last line without a trailing newline, if any.
    public mutating func finish() -> ByteBuffer? {
        defer {
            buffer.clear()
            scannedCount = 0
        }
        return buffer.readableBytes > 0 ? buffer : nil
    }
}
