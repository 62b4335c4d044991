import NIOCore

/// One frame of the log stream of a container without a TTY: the payload is one
/// Docker log message of one output stream.
struct DockerLogFrame: Sendable {
    var stream: LogStreamKind
    var payload: ByteBuffer
}

/// Cuts Docker's multiplexed stream into frames. Each frame has an 8-byte header —
/// byte 0 the stream type, bytes 1-3 zero, bytes 4-7 the payload length as a
/// big-endian UInt32 — followed by the payload.
///
/// Works like swift-nio's `NIOSingleStepByteToMessageDecoder`: the caller keeps the
/// bytes received so far and calls `decode(buffer:)` until it returns nil, which it
/// does (consuming nothing) while the buffer ends inside a frame.
struct MultiplexedFrameDecoder: Sendable {
    static let headerLength = 8
    /// Docker frames hold one log message: at most 16 KiB of output plus its timestamp.
    /// A much larger length means corruption, and must not make us wait for (or allocate) it.
    static let maxPayloadLength = 1 << 20

    /// The next whole frame, consumed from `buffer`; nil while `buffer` holds only part of one.
    /// Throws, consuming nothing, for a header Docker would not send or a daemon error frame.
    func decode(buffer: inout ByteBuffer) throws(DockerLogDecodingError) -> DockerLogFrame? {
        guard let header = try header(in: buffer),
            // A slice shares the received bytes: no copy per frame.
            let payload = buffer.getSlice(at: buffer.readerIndex + Self.headerLength, length: header.payloadLength)
        else { return nil }

        guard let stream = header.stream else {
            throw .daemonError(String(buffer: payload))
        }
        buffer.moveReaderIndex(forwardBy: Self.headerLength + header.payloadLength)
        return DockerLogFrame(stream: stream, payload: payload)
    }

    /// Called once the stream has ended: whatever is left is the start of a frame that never came whole.
    func decodeLast(buffer: inout ByteBuffer) throws(DockerLogDecodingError) {
        guard buffer.readableBytes > 0 else { return }
        let expectedBytes = try header(in: buffer).map { Self.headerLength + $0.payloadLength } ?? Self.headerLength
        throw .truncatedFrame(expectedBytes: expectedBytes, receivedBytes: buffer.readableBytes)
    }

    /// The validated header at the reader index, nil while fewer than 8 bytes are there.
    /// The stream is nil for a daemon error frame (type 3).
    private func header(in buffer: ByteBuffer) throws(DockerLogDecodingError) -> (stream: LogStreamKind?, payloadLength: Int)? {
        guard let typeAndPadding = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            let payloadLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
        else { return nil }

        let streamType = UInt8(truncatingIfNeeded: typeAndPadding >> 24)
        let stream: LogStreamKind?
        switch streamType {
        // Docker's own client (stdcopy) prints stdin frames as stdout; the logs API never sends them.
        case 0, 1: stream = .stdout
        case 2: stream = .stderr
        case 3: stream = nil
        default: throw .unknownStreamType(streamType)
        }
        guard typeAndPadding & 0x00FF_FFFF == 0 else {
            let header = buffer.getBytes(at: buffer.readerIndex, length: Self.headerLength)!
            throw .nonZeroFramePadding(header: header)
        }
        guard payloadLength <= Self.maxPayloadLength else {
            throw .frameTooLarge(length: payloadLength, limit: Self.maxPayloadLength)
        }
        return (stream, Int(payloadLength))
    }
}
