/// One log line as clients receive it (SPEC §4 `Line`).
public struct LogLine: Sendable, Equatable, Codable {
    public var agentId: String
    public var containerId: String
    public var seq: Int
    public var epoch: String
    /// Docker's RFC 3339 time with nanoseconds, exactly as Docker wrote it.
    public var timestamp: String
    /// `stdout`, `stderr` or `tty`.
    public var stream: String
    public var message: String

    public init(agentId: String, containerId: String, seq: Int, epoch: String, timestamp: String, stream: String, message: String) {
        self.agentId = agentId
        self.containerId = containerId
        self.seq = seq
        self.epoch = epoch
        self.timestamp = timestamp
        self.stream = stream
        self.message = message
    }
}

/// The bytes of a `log.line` frame, as the agent publishes them and clients receive them.
///
/// Hand-written because the agent encodes every line of every followed
/// container: this is several times faster than `JSONEncoder`, and the fixed
/// layout (`seq` first) lets the gateway read a frame's `seq` and its `Line`
/// object without parsing the message text.
public enum LogLineFrame {
    static let head = Array(#"{"type":"log.line","data":{"seq":"#.utf8)

    public static func encode(_ line: LogLine, into bytes: inout [UInt8]) {
        Template(epoch: line.epoch, agentId: line.agentId, containerId: line.containerId)
            .encode(seq: line.seq, timestamp: line.timestamp, stream: line.stream, message: line.message, into: &bytes)
    }

    public static func encode(_ line: LogLine) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(200 + line.message.utf8.count)
        encode(line, into: &bytes)
        return bytes
    }

    /// The part of a stream's frames that all its lines share (epoch, agent,
    /// container), escaped once: the agent encodes every line of a stream with it.
    public struct Template: Sendable {
        /// From after `seq` up to the timestamp's value.
        private let afterSeq: [UInt8]

        public init(epoch: String, agentId: String, containerId: String) {
            var bytes: [UInt8] = []
            LogLineFrame.appendField("epoch", epoch, to: &bytes)
            LogLineFrame.appendField("agentId", agentId, to: &bytes)
            LogLineFrame.appendField("containerId", containerId, to: &bytes)
            bytes.append(contentsOf: #","timestamp":""#.utf8)
            afterSeq = bytes
        }

        public func encode(seq: Int, timestamp: String, stream: String, message: String, into bytes: inout [UInt8]) {
            var timestamp = timestamp
            timestamp.withUTF8 { encode(seq: seq, timestamp: UnsafeRawBufferPointer($0), stream: stream, message: message, into: &bytes) }
        }

        /// - Parameter timestamp: the timestamp's UTF-8 bytes.
        public func encode(seq: Int, timestamp: UnsafeRawBufferPointer, stream: String, message: String, into bytes: inout [UInt8]) {
            bytes.append(contentsOf: LogLineFrame.head)
            ASCIIDecimal.append(seq, to: &bytes)
            bytes.append(contentsOf: afterSeq)
            JSONString.appendEscaped(utf8: timestamp, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
            LogLineFrame.appendField("stream", stream, to: &bytes)
            LogLineFrame.appendField("message", message, to: &bytes)
            bytes.append(contentsOf: "}}".utf8)
        }
    }

    /// What the gateway reads of a frame made by `encode`, found in one pass
    /// over its head: never the message text.
    public struct Parsed: Sendable, Equatable {
        public var seq: Int
        /// Byte offsets of the epoch's value (between its quotes).
        public var epochBytes: Range<Int>
        /// Byte offsets of the `Line` object (what `log.history` and `log.lines` carry).
        public var lineObject: Range<Int>
    }

    /// Reads a `log.line` frame made by `encode`; `nil` for any other frame.
    ///
    /// Takes raw bytes, not a generic collection: the gateway runs this for every
    /// line it receives, and generic code across modules is not specialised.
    public static func parse(_ frame: UnsafeRawBufferPointer) -> Parsed? {
        guard frame.count > head.count + 1, frame.last == UInt8(ascii: "}"),
            head.withUnsafeBytes({ frame.hasBytes($0, at: 0) })
        else { return nil }
        var index = head.count
        var seq = 0
        while index < frame.count, index - head.count < 18, frame[index] >= UInt8(ascii: "0"), frame[index] <= UInt8(ascii: "9") {
            seq = seq * 10 + Int(frame[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > head.count, epochHead.withUnsafeBytes({ frame.hasBytes($0, at: index) }) else { return nil }
        let epochStart = index + epochHead.count
        guard let epochEnd = frame[epochStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return Parsed(seq: seq, epochBytes: epochStart..<epochEnd, lineObject: lineStart..<(frame.count - 1))
    }

    private static let lineStart = #"{"type":"log.line","data":"#.utf8.count
    private static let epochHead = Array(#","epoch":""#.utf8)

    private static func appendField(_ name: StaticString, _ value: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #",""#.utf8)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: #"":""#.utf8)
        JSONString.appendEscaped(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
}

/// JSON string escaping (RFC 8259): quote, backslash and control characters.
public enum JSONString {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    public static func appendEscaped(_ string: String, to bytes: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendEscaped(utf8: UnsafeRawBufferPointer($0), to: &bytes) }
    }

    /// - Parameter utf8: valid UTF-8: it is copied as it is, only escaped.
    public static func appendEscaped(utf8: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            default:
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            }
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart...]))
    }
}
