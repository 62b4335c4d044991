import NIOCore

/// Reads a busy connection at most once per `interval`.
///
/// Docker writes a followed log one line at a time. Reading as soon as bytes
/// arrive wakes the agent (event loop, reading task, publisher) for every few
/// lines: tens of thousands of thread hand-offs a second, which cost more CPU
/// than the lines themselves. Once reads come closer together than `interval`,
/// the next read waits until `interval` after the last one, so each read
/// carries the lines of a whole interval; the kernel holds them meanwhile. A
/// quiet log's line, coming after a pause, is read at once, and so is the
/// next read after a large one: the sender is likely blocked on a full socket
/// buffer, and a large read has already paid for its wake-up.
final class ReadPacingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let interval: TimeAmount
    /// When bytes last came in; nil before the first.
    private var lastRead: NIODeadline?
    /// Bytes that came in since the last read request.
    private var bytesSinceReadRequest = 0
    /// A read at least this large is followed by the next at once. Well below what
    /// Docker's socket holds before its writer blocks: each chunk is a buffer of its
    /// own in the kernel, so ~16 KB of short lines fill it.
    static let largeRead = 8 << 10
    private var isReadScheduled = false

    init(interval: TimeAmount) {
        self.interval = interval
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        bytesSinceReadRequest += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    /// Asks for more bytes now, or, right after a small read, once `interval` has passed.
    func read(context: ChannelHandlerContext) {
        guard !isReadScheduled else { return }
        let wasLarge = bytesSinceReadRequest >= Self.largeRead
        bytesSinceReadRequest = 0
        guard !wasLarge, let lastRead, context.eventLoop.now < lastRead + interval else {
            context.read()
            return
        }
        isReadScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: lastRead + interval) {
            let (handler, context) = loopBound.value
            handler.isReadScheduled = false
            context.read()
        }
    }
}
