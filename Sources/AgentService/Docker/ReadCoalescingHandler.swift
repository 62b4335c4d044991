import NIOCore
import NIOHTTP1

/// A streaming Docker response as `ReadCoalescingHandler` passes it on.
enum DockerResponsePart: Sendable {
    case head(HTTPResponseHead)
    /// All body bytes that one socket read brought.
    case body(ByteBuffer)
}

/// Merges the body parts of one socket read into one buffer.
///
/// Docker flushes every event (as it did every log line) as an HTTP chunk of its own
/// when it answers in HTTP/1.1, so NIO's HTTP decoder emits one body part per chunk;
/// one buffer per read pays the hand-off to the reading task once. The agent asks in
/// HTTP/1.0 (one part per read already); a proxy in front of Docker may still answer
/// chunked.
final class ReadCoalescingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = DockerResponsePart

    /// The connection closed between a response's head and its end.
    struct ResponseCutShort: Error, CustomStringConvertible {
        var description: String { "the connection closed in the middle of the response" }
    }

    private var body: ByteBuffer?
    private var isInsideResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            isInsideResponse = true
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body(var part):
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            isInsideResponse = false
            forwardBody(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        forwardBody(context: context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        forwardBody(context: context)
        if isInsideResponse {
            context.fireErrorCaught(ResponseCutShort())
        }
        context.fireChannelInactive()
    }

    private func forwardBody(context: ChannelHandlerContext) {
        if let body = body.take() {
            context.fireChannelRead(wrapInboundOut(.body(body)))
        }
    }
}
