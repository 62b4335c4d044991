import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import AgentService

/// The NIO handlers of Docker's streaming connections, on an `EmbeddedChannel` with a virtual clock.
struct StreamingHandlerTests {
    /// Counts the read requests that get past the handlers in front of it.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    func makePacedChannel() throws -> (EmbeddedChannel, ReadCounter) {
        let counter = ReadCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(counter, ReadPacingHandler(interval: .milliseconds(1)))
        return (channel, counter)
    }

    func bytes(_ count: Int) -> ByteBuffer {
        ByteBuffer(repeating: UInt8(ascii: "x"), count: count)
    }

    @Test func aReadRightAfterASmallOneWaitsForTheInterval() throws {
        let (channel, counter) = try makePacedChannel()
        channel.read()
        #expect(counter.reads == 1, "nothing came in yet: read at once")

        try channel.writeInbound(bytes(100))
        channel.read()
        channel.read()
        #expect(counter.reads == 1, "a busy connection's next read waits")
        channel.embeddedEventLoop.advanceTime(by: .microseconds(900))
        #expect(counter.reads == 1)
        channel.embeddedEventLoop.advanceTime(by: .microseconds(100))
        #expect(counter.reads == 2, "one read, however often it was asked for")
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 100, "bytes pass through untouched")
    }

    @Test func aReadAfterAPauseOrAfterALargeReadIsAtOnce() throws {
        let (channel, counter) = try makePacedChannel()
        try channel.writeInbound(bytes(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(5))
        channel.read()
        #expect(counter.reads == 1, "a quiet log's next line is not delayed")

        try channel.writeInbound(bytes(ReadPacingHandler.largeRead))
        channel.read()
        #expect(counter.reads == 2, "after a large read the sender may be blocked on a full buffer")

        try channel.writeInbound(bytes(100))
        channel.read()
        #expect(counter.reads == 2, "the large read's size does not carry over to the next one")
    }

    func makeCoalescingChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ReadCoalescingHandler())
        return channel
    }

    func readPart(_ channel: EmbeddedChannel) throws -> DockerResponsePart? {
        try channel.readInbound(as: DockerResponsePart.self)
    }

    @Test func bodyPartsOfOneReadBecomeOneBuffer() throws {
        let channel = try makeCoalescingChannel()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        guard case .head(let head) = try readPart(channel) else { Issue.record("expected the head first"); return }
        #expect(head.status == .ok)

        // One socket read: parts without a read-complete between them (`writeInbound` would add one each).
        for line in ["one\n", "two\n", "three\n"] {
            channel.pipeline.fireChannelRead(NIOAny(HTTPClientResponsePart.body(ByteBuffer(string: line))))
        }
        #expect(try readPart(channel) == nil, "held until the read is complete")
        channel.pipeline.fireChannelReadComplete()
        guard case .body(let body) = try readPart(channel) else { Issue.record("expected one body buffer"); return }
        #expect(String(buffer: body) == "one\ntwo\nthree\n")
        #expect(try readPart(channel) == nil)

        channel.pipeline.fireChannelRead(NIOAny(HTTPClientResponsePart.body(ByteBuffer(string: "last\n"))))
        channel.pipeline.fireChannelRead(NIOAny(HTTPClientResponsePart.end(nil)))
        guard case .body(let last) = try readPart(channel) else { Issue.record("the end passes the rest on"); return }
        #expect(String(buffer: last) == "last\n")
        #expect(try channel.finish().isClean)
    }

    @Test func aConnectionClosedMidResponseIsAnError() throws {
        let channel = try makeCoalescingChannel()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        channel.pipeline.fireChannelRead(NIOAny(HTTPClientResponsePart.body(ByteBuffer(string: "partial"))))
        channel.pipeline.fireChannelInactive()
        #expect(throws: ReadCoalescingHandler.ResponseCutShort.self) { try channel.throwIfErrorCaught() }
        _ = try readPart(channel)  // the head
        guard case .body(let body) = try readPart(channel) else { Issue.record("bytes before the cut still arrive"); return }
        #expect(String(buffer: body) == "partial")
    }
}
