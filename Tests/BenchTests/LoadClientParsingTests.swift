@testable import Bench
import Testing

/// The load client reads what it counts straight out of the bytes it receives; these are the parsers it does that with.
struct GatewayMessageScannerTests {
    /// A `log.lines` message as the gateway relays it. The agent id `t1` puts a `"t` before every
    /// `"timestamp":"`, which the scanner must look past.
    let message = Array(
        (#"{"type":"log.lines","data":{"agentId":"t1","containerId":"c0ffee","lines":["#
            + #"{"seq":41,"agentId":"t1","containerId":"c0ffee","epoch":"e","timestamp":"2026-12-07T07:00:00.000000001Z","stream":"tty","message":"a \"t\""},"#
            + #"{"seq":42,"agentId":"t1","containerId":"c0ffee","epoch":"e","timestamp":"2026-12-07T07:00:01.5Z","stream":"stdout","message":""}"#
            + "]}}").utf8
    )

    private func lines(timestamps: Bool) -> [[Int64]] {
        var lines: [[Int64]] = []
        message.withUnsafeBytes { bytes in
            GatewayMessageScanner.forEachLine(in: bytes, timestamps: timestamps) { seq, timestamp in lines.append([Int64(seq), timestamp]) }
        }
        return lines
    }

    @Test func findsEveryLineWithItsTimestamp() {
        #expect(lines(timestamps: true) == [[41, 1_796_626_800_000_000_001], [42, 1_796_626_801_500_000_000]])
    }

    @Test func skipsTimestampsWhenNotAsked() {
        #expect(lines(timestamps: false) == [[41, 0], [42, 0]])
    }

    @Test func tellsLinesFromHistoryAndControlMessages() {
        func kind(_ text: String) -> GatewayMessageScanner.Kind {
            Array(text.utf8).withUnsafeBytes { GatewayMessageScanner.kind(of: $0) }
        }
        #expect(message.withUnsafeBytes { GatewayMessageScanner.kind(of: $0) } == .lines)
        #expect(kind(#"{"type":"log.line","data":{"seq":1}}"#) == .line)
        #expect(kind(#"{"type":"log.history","data":{"lines":[]}}"#) == .history)
        #expect(kind(#"{"type":"log.gap","data":{"fromSeq":1,"toSeq":2}}"#) == .control)
    }
}

struct WebSocketFrameHeaderTests {
    private func header(_ bytes: [UInt8]) throws -> WebSocketFrameHeader? {
        try bytes.withUnsafeBytes { try WebSocketFrameHeader(parsing: $0) }
    }

    @Test func readsTheThreeLengthForms() throws {
        let short = try #require(try header([0x81, 0x05]))
        #expect(short.isFinal && short.opcode == 0x1 && short.headerLength == 2 && short.length == 7)

        let medium = try #require(try header([0x01, 0x7E, 0x01, 0x00]))
        #expect(!medium.isFinal && medium.opcode == 0x1 && medium.headerLength == 4 && medium.length == 4 + 256)

        let long = try #require(try header([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]))
        #expect(long.isFinal && long.opcode == 0x2 && long.headerLength == 10 && long.length == 10 + 65_536)
    }

    @Test func waitsForAWholeHeader() throws {
        #expect(try header([]) == nil)
        #expect(try header([0x81]) == nil)
        #expect(try header([0x81, 0x7E, 0x01]) == nil)
        #expect(try header([0x81, 0x7F, 0, 0, 0, 0, 0, 1, 0]) == nil)
    }

    @Test func refusesMaskedOversizedAndNegativeLengths() throws {
        #expect(throws: BenchError.self) { try header([0x81, 0x85]) }
        #expect(throws: BenchError.self) { try header([0x81, 0x7F, 0, 0, 0, 0, 0x01, 0, 0, 1]) }
        #expect(throws: BenchError.self) { try header([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]) }
        let largest = try #require(try header([0x82, 0x7F, 0, 0, 0, 0, 0x01, 0, 0, 0]))
        #expect(largest.length == 10 + LoadConnectionLimits.maxMessageSize)
    }
}

struct WebSocketMessageAssemblerTests {
    /// What the handler saw, as text: `message:…`, `ping:…`, `close:…`.
    private func events(in bytes: [UInt8], assembler: inout WebSocketMessageAssembler) throws -> ([String], WebSocketMessageAssembler.Progress) {
        var seen: [String] = []
        let progress = try bytes.withUnsafeBytes { bytes in
            try assembler.take(from: bytes) { event in
                switch event {
                case .message(let payload): seen.append("message:" + String(decoding: payload, as: UTF8.self))
                case .ping(let payload): seen.append("ping:" + String(decoding: payload, as: UTF8.self))
                case .close(let payload): seen.append("close:" + payload.map(String.init).joined(separator: ","))
                }
            }
        }
        return (seen, progress)
    }

    private func frame(_ first: UInt8, _ text: String) -> [UInt8] {
        [first, UInt8(text.utf8.count)] + Array(text.utf8)
    }

    @Test func takesWholeFramesAndStopsAtAPartialOne() throws {
        var assembler = WebSocketMessageAssembler()
        let bytes = frame(0x81, "one") + frame(0x81, "two") + [0x81, 0x7E, 0x01, 0x00, 0x61]
        let (seen, progress) = try events(in: bytes, assembler: &assembler)
        #expect(seen == ["message:one", "message:two"])
        #expect(progress.consumed == 10 && progress.needed == 4 + 256 && !progress.isClosed)
    }

    @Test func joinsFragmentsAroundAPingAndAcrossCalls() throws {
        var assembler = WebSocketMessageAssembler()
        let (first, _) = try events(in: frame(0x01, "he") + frame(0x89, "are you there") + frame(0x00, "ll"), assembler: &assembler)
        #expect(first == ["ping:are you there"])
        let (second, progress) = try events(in: frame(0x8A, "") + frame(0x80, "o"), assembler: &assembler)
        #expect(second == ["message:hello"])
        #expect(progress.consumed == 5 && !progress.isClosed)
    }

    @Test func endsAtACloseFrame() throws {
        var assembler = WebSocketMessageAssembler()
        let (seen, progress) = try events(in: [0x88, 0x02, 0x03, 0xE9] + frame(0x81, "after"), assembler: &assembler)
        #expect(seen == ["close:3,233"])
        #expect(progress.consumed == 4 && progress.isClosed)
    }

    @Test func refusesReservedOpcodes() {
        var assembler = WebSocketMessageAssembler()
        #expect(throws: BenchError.self) { try events(in: frame(0x83, "x"), assembler: &assembler) }
    }
}

struct WebSocketClientFrameTests {
    @Test func masksAsTheRFCExampleDoes() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let frame = WebSocketClientFrame.encode(opcode: WebSocketOpcode.text, payload: Array("Hello".utf8), mask: [0x37, 0xFA, 0x21, 0x3D])
        #expect(frame == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func usesTheLongerLengthForms() {
        let medium = WebSocketClientFrame.encode(opcode: WebSocketOpcode.text, payload: [UInt8](repeating: 0, count: 300), mask: [0, 0, 0, 0])
        #expect(Array(medium.prefix(4)) == [0x81, 0xFE, 0x01, 0x2C] && medium.count == 4 + 4 + 300)
        let long = WebSocketClientFrame.encode(opcode: WebSocketOpcode.binary, payload: [UInt8](repeating: 0, count: 70_000), mask: [0, 0, 0, 0])
        #expect(Array(long.prefix(10)) == [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70] && long.count == 10 + 4 + 70_000)
    }
}
