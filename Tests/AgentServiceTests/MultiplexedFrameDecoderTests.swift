import NIOCore
import Testing

@testable import AgentService

@Suite struct MultiplexedFrameDecoderTests {
    let decoder = MultiplexedFrameDecoder()

    @Test func decodesFramesAndWaitsForIncompleteOnes() throws {
        let bytes = DockerLogFixtures.frame(.stdout, "one\n") + DockerLogFixtures.frame(.stderr, "two\n")
        var buffer = ByteBuffer(bytes: bytes.dropLast())

        let first = try #require(try decoder.decode(buffer: &buffer))
        #expect(first.stream == .stdout)
        #expect(String(buffer: first.payload) == "one\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 8 + 3, "an incomplete frame is left unconsumed")

        buffer.writeInteger(UInt8(ascii: "\n"))
        let second = try #require(try decoder.decode(buffer: &buffer))
        #expect(second.stream == .stderr)
        #expect(String(buffer: second.payload) == "two\n")
        #expect(buffer.readableBytes == 0)
    }

    @Test func stdinFramesCountAsStdoutLikeDockersClient() throws {
        var buffer = ByteBuffer(bytes: DockerLogFixtures.frame(type: 0, payload: Array("in\n".utf8)))
        #expect(try decoder.decode(buffer: &buffer)?.stream == .stdout)
    }

    @Test func headerClaimingTwoGigabytesIsAnErrorAtOnce() {
        // Only the 8 header bytes: the decoder must not wait for (or allocate) 2 GB.
        var buffer = ByteBuffer(bytes: [1, 0, 0, 0, 0x80, 0, 0, 0])
        #expect(throws: DockerLogDecodingError.frameTooLarge(length: 0x8000_0000, limit: 1 << 20)) {
            try decoder.decode(buffer: &buffer)
        }
        #expect(buffer.readableBytes == 8, "the bad header stays, so the error repeats")
        #expect(throws: DockerLogDecodingError.frameTooLarge(length: 0x8000_0000, limit: 1 << 20)) {
            try decoder.decode(buffer: &buffer)
        }
        let description = String(describing: DockerLogDecodingError.frameTooLarge(length: 0x8000_0000, limit: 1 << 20))
        #expect(description.contains("2147483648"))
    }

    @Test func nonZeroPaddingIsAnError() {
        var buffer = ByteBuffer(bytes: [1, 0, 7, 0, 0, 0, 0, 4] + Array("abc\n".utf8))
        #expect(throws: DockerLogDecodingError.nonZeroFramePadding(header: [1, 0, 7, 0, 0, 0, 0, 4])) {
            try decoder.decode(buffer: &buffer)
        }
        #expect(
            String(describing: DockerLogDecodingError.nonZeroFramePadding(header: [1, 0, 7, 0, 0, 0, 0, 4]))
                .contains("01 00 07 00 00 00 00 04")
        )
    }

    @Test func unknownStreamTypeIsAnErrorThatPointsAtTTY() {
        // A TTY container's raw log read as multiplexed: "2024-..." begins with 0x32.
        var buffer = ByteBuffer(string: "2024-05-01T12:34:56.5Z hello\n")
        #expect(throws: DockerLogDecodingError.unknownStreamType(0x32)) {
            try decoder.decode(buffer: &buffer)
        }
        #expect(String(describing: DockerLogDecodingError.unknownStreamType(0x32)).contains("TTY"))
    }

    @Test func daemonErrorFrameIsThrownWithItsMessage() {
        var buffer = ByteBuffer(bytes: DockerLogFixtures.frame(type: 3, payload: Array("log file is gone".utf8)))
        #expect(throws: DockerLogDecodingError.daemonError("log file is gone")) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test func leftoverBytesAtTheEndAreATruncatedFrame() throws {
        var empty = ByteBuffer()
        try decoder.decodeLast(buffer: &empty)

        var halfHeader = ByteBuffer(bytes: [1, 0, 0])
        #expect(throws: DockerLogDecodingError.truncatedFrame(expectedBytes: 8, receivedBytes: 3)) {
            try decoder.decodeLast(buffer: &halfHeader)
        }
        var halfFrame = ByteBuffer(bytes: Array(DockerLogFixtures.frame(.stdout, "hello\n").prefix(10)))
        #expect(throws: DockerLogDecodingError.truncatedFrame(expectedBytes: 14, receivedBytes: 10)) {
            try decoder.decodeLast(buffer: &halfFrame)
        }
    }
}
