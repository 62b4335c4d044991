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

        /// The frame's size before escaping the message: a good capacity to reserve.
        public func estimatedSize(messageBytes: Int) -> Int { LogLineFrame.head.count + afterSeq.count + 80 + messageBytes }

        public func encode(seq: Int, timestamp: String, stream: String, message: String, into bytes: inout [UInt8]) {
            bytes.append(contentsOf: LogLineFrame.head)
            bytes.append(contentsOf: String(seq).utf8)
            bytes.append(contentsOf: afterSeq)
            JSONString.appendEscaped(timestamp, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
            LogLineFrame.appendField("stream", stream, to: &bytes)
            LogLineFrame.appendField("message", message, to: &bytes)
            bytes.append(contentsOf: "}}".utf8)
        }
    }

    /// The `seq` of a frame made by `encode`, or `nil` for anything else.
    public static func seq<Bytes: Collection<UInt8>>(of frame: Bytes) -> Int? {
        guard frame.starts(with: head) else { return nil }
        var value = 0
        var digits = 0
        for byte in frame.dropFirst(head.count) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            guard digits < 18 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// The `epoch` of a frame made by `encode` (the field after `seq`), or `nil` for anything else.
    public static func epoch<Bytes: Collection<UInt8>>(of frame: Bytes) -> String? {
        guard seq(of: frame) != nil else { return nil }
        let fieldHead = Array(#","epoch":""#.utf8)
        var rest = frame.dropFirst(head.count).drop(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        guard rest.starts(with: fieldHead) else { return nil }
        rest = rest.dropFirst(fieldHead.count)
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }

    /// The `Line` object inside a frame made by `encode` (for `log.history` and `log.lines`).
    public static func lineObject<Bytes: BidirectionalCollection<UInt8>>(of frame: Bytes) -> Bytes.SubSequence? {
        let prefixLength = #"{"type":"log.line","data":"#.utf8.count
        guard frame.count > prefixLength + 1, frame.starts(with: head), frame.last == UInt8(ascii: "}") else { return nil }
        return frame.dropFirst(prefixLength).dropLast()
    }

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
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
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
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
    }
}
