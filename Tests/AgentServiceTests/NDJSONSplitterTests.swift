import NIOCore
import Testing
@testable import AgentService

@Suite struct NDJSONSplitterTests {
    static let objects = [
        #"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web"}}}"#,
        #"{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"0","name":"web"}}}"#,
        #"{"a":"ünïcödé ✓"}"#,
    ]
    /// Includes an empty line, which the splitter skips.
    static let fixture = Array((objects[0] + "\n" + objects[1] + "\n\n" + objects[2] + "\n").utf8)

    /// Feeds `chunks` in order and drains lines after each one, as the event stream does.
    static func split(_ chunks: [ArraySlice<UInt8>], into splitter: inout NDJSONSplitter) throws -> [String] {
        var lines: [String] = []
        for chunk in chunks {
            splitter.append(ByteBuffer(bytes: chunk))
            while let line = try splitter.nextLine() {
                lines.append(String(buffer: line))
            }
        }
        return lines
    }

    @Test func splitsAtEveryPosition() throws {
        for cut in 0...Self.fixture.count {
            var splitter = NDJSONSplitter()
            let lines = try Self.split([Self.fixture[..<cut], Self.fixture[cut...]], into: &splitter)
            #expect(lines == Self.objects, "cut at \(cut)")
            #expect(splitter.finish() == nil)
        }
    }

    @Test func splitsAtEveryPairOfPositions() throws {
        let bytes = Self.fixture
        for first in stride(from: 0, through: bytes.count, by: 7) {
            for second in first...bytes.count {
                var splitter = NDJSONSplitter()
                let chunks = [bytes[..<first], bytes[first..<second], bytes[second...]]
                #expect(try Self.split(chunks, into: &splitter) == Self.objects, "cuts at \(first), \(second)")
            }
        }
    }

    @Test func handlesOneByteAtATime() throws {
        var splitter = NDJSONSplitter()
        let chunks = Self.fixture.indices.map { Self.fixture[$0...$0] }
        #expect(try Self.split(chunks, into: &splitter) == Self.objects)
    }

    @Test func handsOverALastLineWithoutNewline() throws {
        var splitter = NDJSONSplitter()
        let lines = try Self.split([Array((Self.objects[0] + "\n" + Self.objects[1]).utf8)[...]], into: &splitter)
        #expect(lines == [Self.objects[0]])
        #expect(splitter.finish().map { String(buffer: $0) } == Self.objects[1])
        #expect(splitter.finish() == nil)
    }

    @Test func refusesAnEndlessLine() {
        var splitter = NDJSONSplitter(maximumLineLength: 16)
        splitter.append(ByteBuffer(string: String(repeating: "x", count: 17)))
        #expect(throws: DockerError.self) { try splitter.nextLine() }
    }

    @Test func keepsMemoryBoundedOverManyLines() throws {
        var splitter = NDJSONSplitter()
        for index in 0..<10_000 {
            splitter.append(ByteBuffer(string: "{\"n\":\(index)}\n"))
            #expect(try splitter.nextLine().map { String(buffer: $0) } == "{\"n\":\(index)}")
        }
        #expect(splitter.finish() == nil)
    }
}
