import Glibc
import Shared

/// Reads what the load client needs out of a gateway message's bytes: which kind it
/// is and, for line-carrying frames, each line's `seq` and Docker `timestamp`.
///
/// No JSON parser on this path: the agent writes every line object with its keys in
/// a fixed order, `{"seq":N,…,"timestamp":"…",…}` (docs/protocol.md), and the gateway
/// relays those bytes unchanged, so finding `{"seq":` finds the next line. A message
/// text containing `{"seq":` would fool it; the benchmark containers print digits only.
enum GatewayMessageScanner {
    enum Kind {
        case line, lines, history
        /// Replies and stream events: rare, parsed with a real JSON parser.
        case control
    }

    static func kind(of bytes: UnsafeRawBufferPointer) -> Kind {
        if startsWith(bytes, linePrefix) { return .line }
        if startsWith(bytes, linesPrefix) { return .lines }
        if startsWith(bytes, historyPrefix) { return .history }
        return .control
    }

    /// Calls `body` with the `seq` of every line in the message, in order, and with its
    /// timestamp (ns since 1970) if `timestamps` is true, 0 if not: finding and parsing
    /// the timestamp costs more than the rest of the line, and only latency needs it.
    static func forEachLine(in bytes: UnsafeRawBufferPointer, timestamps: Bool, _ body: (_ seq: Int, _ timestamp: Int64) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while let seqStart = find(seqKey, in: bytes, from: offset) {
            var index = seqStart + seqKey.count
            var seq = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                seq = seq * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard timestamps else {
                body(seq, 0)
                offset = index
                continue
            }
            guard let keyStart = find(timestampKey, in: bytes, from: index) else { return }
            let valueStart = keyStart + timestampKey.count
            guard let quote = memchr(base + valueStart, Int32(UInt8(ascii: "\"")), bytes.count - valueStart) else { return }
            let valueEnd = base.distance(to: UnsafeRawPointer(quote))
            let timestamp = RFC3339.nanoseconds(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])) ?? 0
            body(seq, timestamp)
            offset = valueEnd
        }
    }

    private static let linePrefix = Array(#"{"type":"log.line","#.utf8)
    private static let linesPrefix = Array(#"{"type":"log.lines","#.utf8)
    private static let historyPrefix = Array(#"{"type":"log.history","#.utf8)
    private static let seqKey = Array(#"{"seq":"#.utf8)
    private static let timestampKey = Array(#""timestamp":""#.utf8)

    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        prefix.withUnsafeBytes { bytes.hasBytes($0, at: 0) }
    }

    /// The offset of `needle` (at least 2 bytes) in `bytes` at or after `offset`: memchr for its first
    /// byte, then its second byte, then memcmp (Glibc's `memmem` is not visible to Swift without
    /// _GNU_SOURCE). A line object has a dozen `"` before `"timestamp":"`; the second byte turns
    /// away all but one without a call.
    private static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        assert(needle.count >= 2)
        var start = offset
        return needle.withUnsafeBytes { needleBytes in
            while bytes.count - start >= needle.count {
                guard let hit = memchr(base + start, Int32(needle[0]), bytes.count - start - needle.count + 1) else { return nil }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if bytes[index + 1] == needle[1], memcmp(base + index, needleBytes.baseAddress!, needle.count) == 0 { return index }
                start = index + 1
            }
            return nil
        }
    }
}
