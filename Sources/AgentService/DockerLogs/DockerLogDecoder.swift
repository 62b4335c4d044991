import NIOCore

/// Turns the body of Docker's `GET /containers/{id}/logs?timestamps=1` into log lines.
/// Pure: bytes in, records out, no I/O.
///
/// Feed the body's chunks to `decode(_:into:)` as they arrive — a frame or line may be
/// split across chunks at any byte — and call `finish()` when the body ended normally
/// (the container stopped). After a broken connection, drop the decoder instead and
/// resume with Docker's `since`: that reads an incomplete line again, whereas `finish()`
/// would emit it cut short.
///
/// Records come out in Docker's order, as their lines end. Timestamps rise within one
/// stream but not across stdout and stderr: Docker stamps each stream when it reads it,
/// and in a burst a line can be milliseconds older than the other stream's line before it.
public struct DockerLogDecoder: Sendable {
    /// SPEC §4: joined lines are cut beyond 256 KiB.
    public static let defaultMaxMessageBytes = 262_144

    /// A container with a TTY has one raw output stream; one without has Docker's multiplexed frames.
    public let isTTY: Bool
    private let frameDecoder = MultiplexedFrameDecoder()
    private var ttyDecoder = TTYMessageDecoder()
    private var assembler: LogLineAssembler
    /// Received bytes of a frame or message not yet complete.
    private var unprocessed: ByteBuffer?

    public init(tty: Bool, maxMessageBytes: Int = Self.defaultMaxMessageBytes) {
        self.isTTY = tty
        self.assembler = LogLineAssembler(maxMessageBytes: maxMessageBytes)
    }

    /// Consumes `chunk` and appends the lines it completes to `records`.
    ///
    /// Throws `DockerLogDecodingError` for a stream that is not Docker's: the lines
    /// before the bad bytes are already in `records`, and every later call throws again.
    public mutating func decode(
        _ chunk: inout ByteBuffer,
        into records: inout [DockerLogRecord]
    ) throws(DockerLogDecodingError) {
        var buffer: ByteBuffer
        if var carried = unprocessed.take() {
            carried.discardReadBytes()
            carried.writeBuffer(&chunk)
            buffer = carried
        } else {
            // Nothing carried over: decode straight from the chunk, without copying it.
            buffer = chunk
            chunk.moveReaderIndex(to: chunk.writerIndex)
        }
        defer { unprocessed = buffer.readableBytes > 0 ? buffer : nil }

        if isTTY {
            while let message = ttyDecoder.decode(buffer: &buffer) {
                if let record = assembler.append(message: message, stream: .tty) {
                    records.append(record)
                }
            }
        } else {
            while let frame = try frameDecoder.decode(buffer: &buffer) {
                if let record = assembler.append(message: frame.payload, stream: frame.stream) {
                    records.append(record)
                }
            }
        }
    }

    /// Ends the stream: returns the lines still waiting to end — with a TTY, a container's
    /// last output without newline. The decoder is then empty and can start a new stream.
    ///
    /// Throws `DockerLogDecodingError.truncatedFrame`, returning nothing, if the stream
    /// ended inside a frame: the connection broke, so drop the decoder and resume as above.
    public mutating func finish() throws(DockerLogDecodingError) -> [DockerLogRecord] {
        var buffer = unprocessed.take() ?? ByteBuffer()
        var records: [DockerLogRecord] = []
        if isTTY {
            if let message = ttyDecoder.decodeLast(buffer: &buffer),
                let record = assembler.append(message: message, stream: .tty)
            {
                records.append(record)
            }
        } else {
            try frameDecoder.decodeLast(buffer: &buffer)
        }
        assembler.flush(into: &records)
        return records
    }
}
