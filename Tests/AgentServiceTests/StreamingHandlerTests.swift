import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import AgentService

/// The NIO handler of Docker's streaming connections (`withEvents`), on an `EmbeddedChannel`.
struct StreamingHandlerTests {
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
