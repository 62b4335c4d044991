import NIOCore
import Testing

@testable import AgentService

@Suite struct DockerLogDecoderTTYTests {
    let capturedRecords: [DockerLogRecord]

    init() throws {
        capturedRecords = [
            try DockerLogRecord(.tty, "2026-11-25T00:32:02.081164153Z", "tty1"),
            try DockerLogRecord(.tty, "2026-11-25T00:32:02.081197563Z", ""),
            // The program wrote "a\r\n", the terminal made it "a\r\r\n": one "\r" is the line end's.
            try DockerLogRecord(.tty, "2026-11-25T00:32:02.081200197Z", "a\r"),
            try DockerLogRecord(.tty, "2026-11-25T00:32:02.278943171Z", "bc"),
            try DockerLogRecord(.tty, "2026-11-25T00:32:02.312409351Z", "end-no-newline"),
        ]
    }

    @Test func decodesRealDockerTTYOutput() throws {
        #expect(try DockerLogFixtures.decode([DockerLogFixtures.capturedTTY], tty: true) == capturedRecords)
    }

    @Test func everySplitPositionGivesTheSameLines() throws {
        let bytes = DockerLogFixtures.capturedTTY
        for split in 0...bytes.count {
            let chunks = [Array(bytes[..<split]), Array(bytes[split...])]
            #expect(try DockerLogFixtures.decode(chunks, tty: true) == capturedRecords, "split at \(split)")
        }
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: bytes, size: 1), tty: true) == capturedRecords)
    }

    @Test func lastLineWithoutNewlineComesOnlyWithFinish() throws {
        var decoder = DockerLogDecoder(tty: true)
        var records: [DockerLogRecord] = []
        var chunk = ByteBuffer(bytes: DockerLogFixtures.capturedTTY)
        try decoder.decode(&chunk, into: &records)
        #expect(records == Array(capturedRecords.dropLast()))
        #expect(try decoder.finish() == [capturedRecords.last!])
    }

    @Test func unterminatedLastOutputRunsIntoTheNextRunsFirstLine() throws {
        // A known limit of TTY logs: no frame marks where the first run's output ended.
        let records = try DockerLogFixtures.decode([DockerLogFixtures.capturedTTYRestart], tty: true)
        #expect(records == [
            try DockerLogRecord(.tty, "2026-11-25T00:41:35.412703798Z", "start"),
            try DockerLogRecord(.tty, "2026-11-25T00:41:35.437357498Z", "partial-no-newline2026-11-25T00:41:35.628821573Z start"),
            try DockerLogRecord(.tty, "2026-11-25T00:41:35.655336179Z", "partial-no-newline"),
        ])
    }

    @Test func joinsALineDockerSplitIntoSixteenKiBParts() throws {
        // Docker writes a 40,000-byte TTY line as 16,384 + 16,384 + 7,234 bytes ("\r\n" included),
        // each part after its own timestamp and with nothing else marking where a part ends.
        let line = Array(repeating: UInt8(ascii: "y"), count: 40_000)
        let parts = DockerLogFixtures.dockerMessages(
            line: line, partTimestamps: ["2026-11-25T00:32:25.956359829Z"], newline: Array("\r\n".utf8))
        #expect(parts.map(\.count) == [16_415, 16_415, 7_265])
        let stream = parts.joined() + Array("2026-11-25T00:32:25.958382557Z after\r\n".utf8)

        let expected = [
            try DockerLogRecord(.tty, "2026-11-25T00:32:25.956359829Z", String(repeating: "y", count: 40_000)),
            try DockerLogRecord(.tty, "2026-11-25T00:32:25.958382557Z", "after"),
        ]
        #expect(try DockerLogFixtures.decode([Array(stream)], tty: true) == expected)
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: Array(stream), size: 1000), tty: true) == expected)
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: Array(stream), size: 7), tty: true) == expected)
    }

    @Test func carriageReturnAndNewlineSplitApartByDockerStillEndTheLine() throws {
        // 16,383 characters and "\r\n": the first part ends in "\r", the second is only "\n".
        let line = Array(repeating: UInt8(ascii: "c"), count: LogLineAssembler.partialMessageLength - 1)
        let parts = DockerLogFixtures.dockerMessages(
            line: line, partTimestamps: ["2024-05-01T12:00:00Z", "2024-05-01T12:00:01Z"], newline: Array("\r\n".utf8))
        #expect(parts.last == Array("2024-05-01T12:00:01Z \n".utf8))
        let records = try DockerLogFixtures.decode([Array(parts.joined())], tty: true, maxMessageBytes: line.count)
        #expect(records == [try DockerLogRecord(.tty, "2024-05-01T12:00:00Z", String(decoding: line, as: UTF8.self))])
    }

    @Test func timestampsInsideTheOutputAreText() throws {
        let stream = Array("2024-05-01T12:00:00Z 2023-01-01T00:00:00Z app started\r\n".utf8)
        #expect(try DockerLogFixtures.decode([stream], tty: true).map(\.message) == ["2023-01-01T00:00:00Z app started"])
    }

    @Test func cutsALineBeyondTheLimitAndKeepsTheNextLine() throws {
        let line = Array(repeating: UInt8(ascii: "t"), count: 300_000)
        let stream = DockerLogFixtures.dockerMessages(
            line: line, partTimestamps: ["2024-05-01T12:00:00Z"], newline: Array("\r\n".utf8)
        ).joined() + Array("2024-05-01T12:00:01Z next\r\n".utf8)
        let records = try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: Array(stream), size: 32_768), tty: true)
        #expect(records.map(\.message.utf8.count) == [262_144, 4])
        #expect(records.first?.message.hasSuffix("t…[truncated]") == true)
        #expect(records.last == (try DockerLogRecord(.tty, "2024-05-01T12:00:01Z", "next")))
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let stream = Array("2024-05-01T12:00:00Z x".utf8) + [0xE2, 0x82] + Array("y\r\n".utf8)
        #expect(try DockerLogFixtures.decode([stream], tty: true).map(\.message) == ["x\u{FFFD}y"])
    }

    @Test func shortUnterminatedStreamWaitsForMoreThenFinishes() throws {
        // Shorter than any timestamp: the decoder cannot know yet where content starts.
        #expect(try DockerLogFixtures.decode([Array("2024-05".utf8)], tty: true) == [
            DockerLogRecord(stream: .tty, timestamp: .epoch, message: "2024-05")
        ])
        #expect(try DockerLogFixtures.decode([], tty: true).isEmpty)
    }
}
