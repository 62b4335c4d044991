import NIOCore
import Testing

@testable import AgentService

@Suite struct DockerLogDecoderTests {
    let threeFrames =
        DockerLogFixtures.frame(.stdout, "2024-05-01T12:34:56.100000001Z first line\n")
        + DockerLogFixtures.frame(.stderr, "2024-05-01T12:34:56.2Z an error\n")
        + DockerLogFixtures.frame(.stdout, "2024-05-01T12:34:56.300000003Z third ✓\n")

    func threeRecords() throws -> [DockerLogRecord] {
        [
            try DockerLogRecord(.stdout, "2024-05-01T12:34:56.100000001Z", "first line"),
            try DockerLogRecord(.stderr, "2024-05-01T12:34:56.2Z", "an error"),
            try DockerLogRecord(.stdout, "2024-05-01T12:34:56.300000003Z", "third ✓"),
        ]
    }

    @Test func everySplitPositionGivesTheSameLines() throws {
        let expected = try threeRecords()
        #expect(try DockerLogFixtures.decode([threeFrames], tty: false) == expected)
        for split in 0...threeFrames.count {
            let chunks = [Array(threeFrames[..<split]), Array(threeFrames[split...])]
            #expect(try DockerLogFixtures.decode(chunks, tty: false) == expected, "split at \(split)")
        }
    }

    @Test func everyPairOfSplitPositionsGivesTheSameLines() throws {
        let expected = try threeRecords()
        for first in 0...threeFrames.count {
            for second in first...threeFrames.count {
                let chunks = [threeFrames[..<first], threeFrames[first..<second], threeFrames[second...]].map { Array($0) }
                #expect(try DockerLogFixtures.decode(chunks, tty: false) == expected, "split at \(first) and \(second)")
            }
        }
    }

    @Test func oneByteChunksGiveTheSameLines() throws {
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: threeFrames, size: 1), tty: false) == threeRecords())
    }

    @Test func decodesRealDockerOutputWithStdoutStderrAndEmptyLines() throws {
        let records = try DockerLogFixtures.decode([DockerLogFixtures.capturedMultiplexed], tty: false)
        #expect(records == [
            try DockerLogRecord(.stderr, "2026-11-25T00:32:01.573493484Z", "err1"),
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.574569947Z", "out1"),
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.574580132Z", "out2"),
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.574582786Z", ""),
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.774874317Z", "noeol"),
            try DockerLogRecord(.stderr, "2026-11-25T00:32:01.774954587Z", "err2"),
        ])
        #expect(records[0].timestamp.text == "2026-11-25T00:32:01.573493484Z")
        let oneByteChunks = DockerLogFixtures.chunks(of: DockerLogFixtures.capturedMultiplexed, size: 1)
        #expect(try DockerLogFixtures.decode(oneByteChunks, tty: false) == records)
    }

    @Test func decodeConsumesTheChunkAndKeepsItsOwnCopyOfLeftovers() throws {
        var decoder = DockerLogDecoder(tty: false)
        var records: [DockerLogRecord] = []
        var chunk = ByteBuffer(bytes: threeFrames.prefix(20))
        try decoder.decode(&chunk, into: &records)
        #expect(chunk.readableBytes == 0)
        // The caller reuses its buffer for the next read.
        chunk.clear()
        chunk.writeBytes(threeFrames.dropFirst(20))
        try decoder.decode(&chunk, into: &records)
        #expect(try records + decoder.finish() == threeRecords())
    }

    @Test func joinsALineDockerSplitIntoSixteenKiBParts() throws {
        // Docker 20.10 writes a 40,000-byte line as three frames of 16,384 + 16,384 + 7,232
        // content bytes (the last with "\n"), each with the same timestamp prefix.
        let line = Array(repeating: UInt8(ascii: "x"), count: 40_000)
        let parts = DockerLogFixtures.dockerMessages(line: line, partTimestamps: ["2026-11-25T00:32:01.801471958Z"])
        #expect(parts.map(\.count) == [16_415, 16_415, 7_264], "the payload sizes Docker sent")
        let stream = parts.flatMap { DockerLogFixtures.frame(type: 1, payload: $0) }
            + DockerLogFixtures.frame(.stdout, "2026-11-25T00:32:01.801656904Z after\n")

        let expected = [
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.801471958Z", String(repeating: "x", count: 40_000)),
            try DockerLogRecord(.stdout, "2026-11-25T00:32:01.801656904Z", "after"),
        ]
        #expect(try DockerLogFixtures.decode([stream], tty: false) == expected)
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: stream, size: 4096), tty: false) == expected)
        #expect(try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: stream, size: 1000), tty: false) == expected)
    }

    @Test func joinedLineKeepsTheFirstPartsTimestampAndStreamsJoinApart() throws {
        let out = Array(repeating: UInt8(ascii: "o"), count: 20_000)
        let err = Array(repeating: UInt8(ascii: "e"), count: 17_000)
        let outParts = DockerLogFixtures.dockerMessages(
            line: out, partTimestamps: ["2024-05-01T12:00:00.000000001Z", "2024-05-01T12:00:00.9Z"])
        let errParts = DockerLogFixtures.dockerMessages(
            line: err, partTimestamps: ["2024-05-01T12:00:00.000000002Z", "2024-05-01T12:00:00.8Z"])
        // Parts of the two streams interleave.
        let stream = DockerLogFixtures.frame(.stderr, "2024-05-01T12:00:00Z short\n")
            + DockerLogFixtures.frame(type: 1, payload: outParts[0])
            + DockerLogFixtures.frame(type: 2, payload: errParts[0])
            + DockerLogFixtures.frame(type: 1, payload: outParts[1])
            + DockerLogFixtures.frame(type: 2, payload: errParts[1])

        let records = try DockerLogFixtures.decode([stream], tty: false)
        #expect(records == [
            try DockerLogRecord(.stderr, "2024-05-01T12:00:00Z", "short"),
            try DockerLogRecord(.stdout, "2024-05-01T12:00:00.000000001Z", String(repeating: "o", count: 20_000)),
            try DockerLogRecord(.stderr, "2024-05-01T12:00:00.000000002Z", String(repeating: "e", count: 17_000)),
        ])
        #expect(records[1].timestamp.text == "2024-05-01T12:00:00.000000001Z")
    }

    @Test func cutsALineBeyond256KiBAndKeepsTheNextLine() throws {
        let line = Array(repeating: UInt8(ascii: "z"), count: 300_000)
        let parts = DockerLogFixtures.dockerMessages(line: line, partTimestamps: ["2026-11-25T00:32:26.232787751Z"])
        #expect(parts.count == 19)
        let stream = parts.flatMap { DockerLogFixtures.frame(type: 1, payload: $0) }
            + DockerLogFixtures.frame(.stdout, "2026-11-25T00:32:26.239901988Z next\n")

        let records = try DockerLogFixtures.decode(DockerLogFixtures.chunks(of: stream, size: 65_536), tty: false)
        #expect(records.count == 2)
        let cut = try #require(records.first)
        #expect(cut.timestamp.text == "2026-11-25T00:32:26.232787751Z")
        #expect(cut.message.utf8.count == 262_144)
        #expect(cut.message.hasSuffix("z…[truncated]"))
        #expect(cut.message.utf8.dropLast("…[truncated]".utf8.count).allSatisfy { $0 == UInt8(ascii: "z") })
        #expect(records.last == (try DockerLogRecord(.stdout, "2026-11-25T00:32:26.239901988Z", "next")))
    }

    @Test func linesUpToTheLimitAreKeptWhole() throws {
        let limit = 64
        for (length, isCut) in [(limit - 1, false), (limit, false), (limit + 1, true)] {
            let message = "2024-05-01T12:00:00Z " + String(repeating: "a", count: length) + "\r\n"
            let stream = DockerLogFixtures.frame(.stdout, message)
            let records = try DockerLogFixtures.decode([stream], tty: false, maxMessageBytes: limit)
            let text = try #require(records.first?.message)
            #expect(text.hasSuffix("…[truncated]") == isCut, "\(length) bytes")
            #expect(text.utf8.count == min(length, limit))
        }
    }

    @Test(arguments: ["é", "€", "😀"])
    func truncationNeverSplitsACharacter(character: String) throws {
        // A cut inside the first part, and one just past where Docker split the line.
        for limit in [40, LogLineAssembler.partialMessageLength + 20] {
            // Shift the multi-byte characters across every alignment with the cut.
            for shift in 0..<4 {
                let text = String(repeating: "a", count: shift) + String(repeating: character, count: 9000)
                let wholeLine = DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:00Z \(text)\n")
                let splitLine = DockerLogFixtures.dockerMessages(
                    line: Array(text.utf8), partTimestamps: ["2024-05-01T12:00:00Z"]
                ).flatMap { DockerLogFixtures.frame(type: 1, payload: $0) }
                for stream in [wholeLine, splitLine] {
                    let records = try DockerLogFixtures.decode([stream], tty: false, maxMessageBytes: limit)
                    let message = try #require(records.first?.message)
                    #expect(message.hasSuffix("…[truncated]"))
                    #expect(!message.contains("\u{FFFD}"), "limit \(limit), shift \(shift)")
                    #expect(message.utf8.count <= limit)
                    #expect(message.utf8.count > limit - character.utf8.count)
                    #expect(text.hasPrefix(message.dropLast("…[truncated]".count)))
                }
            }
        }
    }

    @Test func truncationOfASplitLineAtASmallLimit() throws {
        // The cut falls into the first part; the remaining parts are dropped until the line ends.
        let line = Array(String(repeating: "0123456789", count: 4000).utf8)
        let stream = DockerLogFixtures.dockerMessages(line: line, partTimestamps: ["2024-05-01T12:00:00Z"])
            .flatMap { DockerLogFixtures.frame(type: 1, payload: $0) }
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:01Z next\n")
        let chunks = DockerLogFixtures.chunks(of: stream, size: 777)
        let records = try DockerLogFixtures.decode(chunks, tty: false, maxMessageBytes: 100)
        #expect(records.map(\.message) == [String(String(decoding: line, as: UTF8.self).prefix(86)) + "…[truncated]", "next"])
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let payload = Array("2024-05-01T12:00:00Z bad ".utf8) + [0xFF, 0xFE, 0xC3] + Array(" end\n".utf8)
        let records = try DockerLogFixtures.decode([DockerLogFixtures.frame(type: 1, payload: payload)], tty: false)
        #expect(records.map(\.message) == ["bad \u{FFFD}\u{FFFD}\u{FFFD} end"])
    }

    @Test func decodesRealDockerOutputWithUnicodeAndCarriageReturn() throws {
        let records = try DockerLogFixtures.decode([DockerLogFixtures.capturedUTF8], tty: false)
        #expect(records.map(\.message) == ["héllo €", "bad\u{FFFD}\u{FFFD}x", "cr"])
    }

    @Test func onlyTheCarriageReturnBeforeTheNewlineIsStripped() throws {
        let stream = DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:00Z a\rb\r\r\n")
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:01Z \r\n")
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:02Z \n")
        #expect(try DockerLogFixtures.decode([stream], tty: false).map(\.message) == ["a\rb\r", "", ""])
    }

    @Test func messageWithoutTimestampKeepsItsTextAndThePreviousTime() throws {
        let stream = DockerLogFixtures.frame(.stdout, "no timestamp at first\n")
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:00.5Z stamped\n")
            + DockerLogFixtures.frame(.stderr, "2024-05-01T12:00:00.5Zno space\n")
        let records = try DockerLogFixtures.decode([stream], tty: false)
        #expect(records == [
            DockerLogRecord(stream: .stdout, timestamp: .epoch, message: "no timestamp at first"),
            try DockerLogRecord(.stdout, "2024-05-01T12:00:00.5Z", "stamped"),
            try DockerLogRecord(.stderr, "2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.5Zno space"),
        ])
    }

    @Test func emptyFramesAreIgnored() throws {
        let stream = DockerLogFixtures.frame(type: 1, payload: [])
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:00Z text\n")
            + DockerLogFixtures.frame(type: 2, payload: [])
        #expect(try DockerLogFixtures.decode([stream], tty: false).map(\.message) == ["text"])
    }

    @Test func shortMessageWithoutNewlineIsARunsLastOutput() throws {
        // Real Docker output of `sh -c 'echo start; printf partial-no-newline'`, run twice:
        // the unterminated output is a frame of its own, and the next run's line follows it.
        let records = try DockerLogFixtures.decode([DockerLogFixtures.capturedRestart], tty: false)
        #expect(records == [
            try DockerLogRecord(.stdout, "2026-11-25T00:41:33.954667528Z", "start"),
            try DockerLogRecord(.stdout, "2026-11-25T00:41:33.978381586Z", "partial-no-newline"),
            try DockerLogRecord(.stdout, "2026-11-25T00:41:34.164566952Z", "start"),
            try DockerLogRecord(.stdout, "2026-11-25T00:41:34.189367772Z", "partial-no-newline"),
        ])
    }

    @Test func splitLineEndsWithAShortPartWithoutNewlineWhenTheContainerStopped() throws {
        // `head -c 40000 /dev/zero | tr '\0' x` and exit: the last part is what was left, unterminated.
        let line = Array(repeating: UInt8(ascii: "x"), count: 40_000)
        let parts = DockerLogFixtures.dockerMessages(line: line, partTimestamps: ["2024-05-01T12:00:00Z"], newline: [])
        let stream = parts.flatMap { DockerLogFixtures.frame(type: 1, payload: $0) }
            + DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:05Z next run\n")
        var decoder = DockerLogDecoder(tty: false)
        var records: [DockerLogRecord] = []
        var chunk = ByteBuffer(bytes: stream)
        try decoder.decode(&chunk, into: &records)
        #expect(records == [
            try DockerLogRecord(.stdout, "2024-05-01T12:00:00Z", String(repeating: "x", count: 40_000)),
            try DockerLogRecord(.stdout, "2024-05-01T12:00:05Z", "next run"),
        ])
        #expect(try decoder.finish().isEmpty)
    }

    @Test func finishEndsSplitLinesThatGotNoLastPartOldestFirst() throws {
        // A line of exactly 16 KiB left unterminated: its only part is a full one, so more could follow.
        let outPart = Array("2024-05-01T12:00:01Z ".utf8) + Array(repeating: UInt8(ascii: "o"), count: 16_384)
        let errPart = Array("2024-05-01T12:00:00.5Z ".utf8) + Array(repeating: UInt8(ascii: "e"), count: 16_383) + [13]
        var decoder = DockerLogDecoder(tty: false)
        var records: [DockerLogRecord] = []
        var chunk = ByteBuffer(bytes:
            DockerLogFixtures.frame(type: 1, payload: outPart) + DockerLogFixtures.frame(type: 2, payload: errPart))
        try decoder.decode(&chunk, into: &records)
        #expect(records.isEmpty)
        #expect(try decoder.finish() == [
            try DockerLogRecord(.stderr, "2024-05-01T12:00:00.5Z", String(repeating: "e", count: 16_383) + "\r"),
            try DockerLogRecord(.stdout, "2024-05-01T12:00:01Z", String(repeating: "o", count: 16_384)),
        ])

        // The decoder starts afresh after finish.
        var next = ByteBuffer(bytes: DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:04Z again\n"))
        try decoder.decode(&next, into: &records)
        #expect(records == [try DockerLogRecord(.stdout, "2024-05-01T12:00:04Z", "again")])
        #expect(try decoder.finish().isEmpty)
    }

    @Test func streamCutInsideAFrameKeepsEarlierLinesAndFinishThrows() throws {
        var decoder = DockerLogDecoder(tty: false)
        var records: [DockerLogRecord] = []
        var chunk = ByteBuffer(bytes: threeFrames.dropLast(10))
        try decoder.decode(&chunk, into: &records)
        #expect(records == Array(try threeRecords().prefix(2)))
        let lastFrameLength = DockerLogFixtures.frame(.stdout, "2024-05-01T12:34:56.300000003Z third ✓\n").count
        let truncated = DockerLogDecodingError.truncatedFrame(expectedBytes: lastFrameLength, receivedBytes: lastFrameLength - 10)
        #expect(throws: truncated) {
            try decoder.finish()
        }
    }

    @Test func corruptHeaderAfterGoodFramesKeepsTheirLinesAndStaysAnError() throws {
        var decoder = DockerLogDecoder(tty: false)
        var records: [DockerLogRecord] = []
        let corruptHeader: [UInt8] = [1, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF]
        var chunk = ByteBuffer(bytes: DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:00Z good\n") + corruptHeader)
        #expect(throws: DockerLogDecodingError.frameTooLarge(length: 0x7FFF_FFFF, limit: 1 << 20)) {
            try decoder.decode(&chunk, into: &records)
        }
        #expect(records.map(\.message) == ["good"])
        var more = ByteBuffer(bytes: DockerLogFixtures.frame(.stdout, "2024-05-01T12:00:01Z more\n"))
        #expect(throws: DockerLogDecodingError.frameTooLarge(length: 0x7FFF_FFFF, limit: 1 << 20)) {
            try decoder.decode(&more, into: &records)
        }
        #expect(records.count == 1)
    }
}
