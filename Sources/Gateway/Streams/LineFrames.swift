import Foundation
import NIOCore
import Shared

/// The frames of SPEC §4 that carry lines (`log.history`, `log.lines`),
/// assembled from the agent's `log.line` frames by copying their `Line`
/// objects, without decoding or re-encoding a single line.
enum LineFrames {
    static func history(id: MessageID?, stream: StreamKey, epoch: String, complete: Bool, lines: some Collection<StreamFrame>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256 + lines.reduce(0) { $0 + $1.bytes.readableBytes })
        buffer.writeString(#"{"type":"log.history","#)
        if let id, let json = try? JSONEncoder().encode(id) {
            buffer.writeString(#""id":"#)
            buffer.writeBytes(json)
            buffer.writeString(",")
        }
        buffer.writeString(#""data":{"#)
        writeStream(stream, to: &buffer)
        buffer.writeString(#","epoch":"#)
        writeJSONString(epoch, to: &buffer)
        buffer.writeString(complete ? #","complete":true,"lines":["# : #","complete":false,"lines":["#)
        writeLineObjects(lines, to: &buffer)
        buffer.writeString("]}}")
        return buffer
    }

    static func lines(stream: StreamKey, lines: some Collection<StreamFrame>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(128 + lines.reduce(0) { $0 + $1.bytes.readableBytes })
        buffer.writeString(#"{"type":"log.lines","data":{"#)
        writeStream(stream, to: &buffer)
        buffer.writeString(#","lines":["#)
        writeLineObjects(lines, to: &buffer)
        buffer.writeString("]}}")
        return buffer
    }

    /// A control frame (`log.subscribed`, `log.gap`, `error`, …) as bytes to send.
    static func control<Payload: Codable & Sendable>(_ type: FrameType, id: MessageID? = nil, _ payload: Payload) -> ByteBuffer {
        ByteBuffer(bytes: Frame(type: type, id: id, data: payload).encoded())
    }

    private static func writeStream(_ stream: StreamKey, to buffer: inout ByteBuffer) {
        buffer.writeString(#""agentId":"#)
        writeJSONString(stream.agent.rawValue, to: &buffer)
        buffer.writeString(#","containerId":"#)
        writeJSONString(stream.container.rawValue, to: &buffer)
    }

    private static func writeLineObjects(_ lines: some Collection<StreamFrame>, to buffer: inout ByteBuffer) {
        var first = true
        for line in lines {
            guard let object = line.lineObject else { continue }
            if !first { buffer.writeString(",") }
            _ = line.bytes.withUnsafeReadableBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[object])) }
            first = false
        }
    }

    private static func writeJSONString(_ string: String, to buffer: inout ByteBuffer) {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        JSONString.appendEscaped(string, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        buffer.writeBytes(bytes)
    }
}
