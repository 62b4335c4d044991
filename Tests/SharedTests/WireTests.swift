import Foundation
@testable import Shared
import Testing

struct LogLineFrameTests {
    let line = LogLine(
        agentId: "host-1", containerId: String(repeating: "ab", count: 32), seq: 42, epoch: "0123abcd",
        timestamp: "2024-05-01T12:34:56.123456789Z", stream: "stderr",
        message: "quote \" backslash \\ tab \t nul \u{0} bell \u{7} newline \n é 😀 </script>"
    )

    @Test func encodesAFrameThatDecodesToTheSameLine() throws {
        let bytes = LogLineFrame.encode(line)
        let frame = try JSONDecoder().decode(Frame<LogLine>.self, from: Data(bytes))
        #expect(frame.type == .line)
        #expect(frame.data == line)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#"\u0000"#))
    }

    @Test(arguments: [0, 7, 10, 999_999, Int.max, -1, Int.min])
    func writesSeqAsJSONNumber(seq: Int) throws {
        var numbered = line
        numbered.seq = seq
        let frame = try JSONDecoder().decode(Frame<LogLine>.self, from: Data(LogLineFrame.encode(numbered)))
        #expect(frame.data.seq == seq)
    }

    @Test func readsSeqEpochAndLineObjectWithoutParsingTheMessage() throws {
        let bytes = LogLineFrame.encode(line)
        let parsed = try #require(bytes.withUnsafeBytes { LogLineFrame.parse($0) })
        #expect(parsed.seq == 42)
        #expect(String(decoding: bytes[parsed.epochBytes], as: UTF8.self) == "0123abcd")
        #expect(try JSONDecoder().decode(LogLine.self, from: Data(bytes[parsed.lineObject])) == line)
    }

    @Test(arguments: [
        #"{"type":"log.stream.ended","data":{}}"#,
        "{}",
        "",
        #"{"type":"log.line","data":{"seq":}}"#,
        #"{"type":"log.line","data":{"seq":12,"epoch":"unterminated}"#,
        #"{"type":"log.line","data":{"seq":1234567890123456789,"epoch":"e"}}"#,
    ])
    func otherFramesAreNotLines(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { LogLineFrame.parse($0) } == nil)
    }

    @Test func controlFramesRoundTrip() throws {
        let gap = Frame(type: .gap, id: .string("7"), data: GapPayload(agentId: "a", containerId: "c", fromSeq: 3, toSeq: 9))
        let decoded = try JSONDecoder().decode(Frame<GapPayload>.self, from: Data(gap.encoded()))
        #expect(decoded.type == .gap)
        #expect(decoded.id == .string("7"))
        #expect(decoded.data == gap.data)
        let numbered = Frame(type: .error, id: .number(12), data: ErrorPayload(code: .badJSON, message: "x"))
        #expect(String(decoding: numbered.encoded(), as: UTF8.self).contains(#""id":12"#))
    }
}

struct RawBytesTests {
    @Test func comparesBytesByLengthAndContent() {
        let abc = Array("abc".utf8), empty: [UInt8] = []
        abc.withUnsafeBytes { abc in
            #expect(abc.hasSameBytes(as: abc))
            #expect(Array("abd".utf8).withUnsafeBytes { !abc.hasSameBytes(as: $0) })
            #expect(Array("ab".utf8).withUnsafeBytes { !abc.hasSameBytes(as: $0) && abc.hasBytes($0, at: 0) && !abc.hasBytes($0, at: 2) })
            #expect(Array("c".utf8).withUnsafeBytes { abc.hasBytes($0, at: 2) && !abc.hasBytes($0, at: 3) && !abc.hasBytes($0, at: -1) })
            #expect(empty.withUnsafeBytes { abc.hasBytes($0, at: 3) && !abc.hasSameBytes(as: $0) && $0.hasSameBytes(as: UnsafeRawBufferPointer(start: nil, count: 0)) })
            #expect("abc".hasUTF8(abc) && !"abcd".hasUTF8(abc) && !"".hasUTF8(abc))
        }
    }
}

struct ASCIIDecimalTests {
    @Test(arguments: [0, 7, 9, 10, 99, 100, 123_456, 1_000_000_007, -1, -10, -98_765, Int.max, Int.min])
    func writesTheSameDigitsAsString(_ value: Int) {
        var bytes = Array("x".utf8)
        ASCIIDecimal.append(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x" + String(value))
    }
}

struct IdentifierTests {
    static let hostile = ["", "*", ":", "{", "}", "a:b", "a{b}", "line\nbreak", "tab\t", "-leading", ".hidden", "spa ce", "ünï", String(repeating: "a", count: 10_000), "a*", "a?", "[a]"]

    @Test(arguments: hostile)
    func rejectsHostileAgentIDs(_ id: String) {
        #expect(throws: IdentifierError.self) { try AgentID(id) }
    }

    @Test(arguments: hostile + ["0123", "abc_def"].map { $0 + ":" })
    func rejectsHostileContainerReferences(_ reference: String) {
        #expect(throws: IdentifierError.self) { try ContainerReference(reference) }
    }

    @Test func acceptsValidIDs() throws {
        #expect(try AgentID("web-01.example_host").rawValue == "web-01.example_host")
        #expect(try AgentID(String(repeating: "a", count: 64)).rawValue.count == 64)
        #expect(throws: IdentifierError.self) { try AgentID(String(repeating: "a", count: 65)) }
        #expect(try ContainerReference("/web-1").rawValue == "web-1")
        #expect(try ContainerID(String(repeating: "0f", count: 32)).rawValue.count == 64)
        #expect(throws: IdentifierError.self) { try ContainerID(String(repeating: "0F", count: 32)) }
    }

    @Test func errorMessageIsShortAndPrintable() {
        do {
            _ = try AgentID("bad\nid" + String(repeating: "x", count: 10_000))
            Issue.record("must be rejected")
        } catch {
            #expect(!error.description.contains("\n"))
            #expect(error.description.count < 300)
        }
    }

    @Test func resolvesByIDNameAndUniquePrefix() throws {
        let containers = [("aaaa1111" + String(repeating: "0", count: 56), "web"), ("aaaa2222" + String(repeating: "0", count: 56), "db")]
        func resolve(_ reference: String) throws -> String? {
            switch try ContainerReference(reference).resolve(in: containers, id: \.0, name: \.1) {
            case .found(let container): container.1
            case .notFound: nil
            case .ambiguous: "ambiguous"
            }
        }
        #expect(try resolve("web") == "web")
        #expect(try resolve(containers[1].0) == "db")
        #expect(try resolve("aaaa2") == "db")
        #expect(try resolve("aaaa") == "ambiguous")
        #expect(try resolve("aaa") == nil, "a prefix needs 4 characters")
        #expect(try resolve("nope") == nil)
    }

    @Test func keysUseHashTagsAndParseBack() throws {
        let keys = RedisKeys(prefix: "tg")
        let agent = try AgentID("host1")
        let container = try ContainerID(String(repeating: "c", count: 64))
        #expect(keys.logs(agent, container) == "tg:logs:{host1:\(container)}")
        #expect(keys.history(agent, container) == "tg:history:{host1:\(container)}")
        #expect(keys.refs(agent, container) == "tg:refs:{host1:\(container)}")
        #expect(keys.control(agent) == "tg:control:host1")
        let parsed = try #require(keys.stream(ofLogsChannel: keys.logs(agent, container)))
        #expect(parsed.0 == agent && parsed.1 == container)
        #expect(keys.stream(ofLogsChannel: "tg:logs:{*:x}") == nil)
    }
}

struct ClientMessageDecoderTests {
    private func decode(_ text: String) -> Result<ClientMessage, ClientMessageError> {
        ClientMessageDecoder.decode(Array(text.utf8))
    }

    private func errorCode(_ text: String) -> ProtocolErrorCode? {
        if case .failure(let error) = decode(text) { return error.payload.code }
        return nil
    }

    @Test func decodesSubscribeWithAllFields() throws {
        let message = try decode(#"{"type":"log.subscribe","id":"s1","data":{"containerId":"web","agentId":"h1","tail":50,"sinceSeq":10,"epoch":"ab12","batch":true}}"#).get()
        #expect(message.id == .string("s1"))
        guard case .subscribe(let request) = message.request else { Issue.record("expected subscribe"); return }
        #expect(request.containerId.rawValue == "web")
        #expect(request.agentId?.rawValue == "h1")
        #expect(request.tail == 50)
        #expect(request.resume?.sinceSeq == 10 && request.resume?.epoch == "ab12")
        #expect(request.batch)
    }

    @Test func decodesUnsubscribe() throws {
        let message = try decode(#"{"type":"log.unsubscribe","id":3,"data":{"containerId":"web"}}"#).get()
        #expect(message.id == .number(3))
        #expect(message.request == .unsubscribe(UnsubscribeRequest(containerId: try ContainerReference("web"), agentId: nil)))
    }

    @Test(arguments: [
        ("not json", ProtocolErrorCode.badJSON),
        (#"{"type":"log.subscribe""#, .badJSON),
        ("[1,2]", .badRequest),
        (#"{"data":{}}"#, .badRequest),
        (#"{"type":"log.tail","data":{}}"#, .unknownType),
        (#"{"type":"log.subscribe"}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":7}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"*"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"a:b"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"{x}"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"a\nb"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","agentId":"*"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","tail":-1}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","tail":1.5}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","sinceSeq":5}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","sinceSeq":5,"epoch":"a b"}}"#, .badRequest),
        (#"{"type":"log.subscribe","data":{"containerId":"web","batch":"yes"}}"#, .badRequest),
        (#"{"type":"log.subscribe","id":{},"data":{"containerId":"web"}}"#, .badRequest),
    ])
    func refusesBadMessages(_ text: String, _ code: ProtocolErrorCode) {
        #expect(errorCode(text) == code, "\(text)")
    }

    @Test func refusesHugeMessagesAndHugeIDs() {
        let padding = String(repeating: "x", count: 70_000)
        #expect(errorCode(#"{"type":"log.subscribe","data":{"containerId":"web","pad":"\#(padding)"}}"#) == .tooLarge)
        let longName = String(repeating: "a", count: 10_000)
        #expect(errorCode(#"{"type":"log.subscribe","data":{"containerId":"\#(longName)"}}"#) == .badRequest)
    }

    @Test func echoesIDOnErrors() {
        guard case .failure(let error) = decode(#"{"type":"nope","id":"q9","data":{}}"#) else {
            Issue.record("must fail")
            return
        }
        #expect(error.id == .string("q9"))
        #expect(error.payload.code == .unknownType)
    }
}
