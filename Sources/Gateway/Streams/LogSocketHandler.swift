import DequeModule
import Logging
import NIOCore
import NIOWebSocket

/// Serves one log WebSocket on its channel's event loop: reads the client's
/// messages, has its `LogSession` answer them one at a time, writes what the
/// outbox holds, pings, and closes.
///
/// It is a channel handler, not a task per connection: a task keeps the slabs
/// of the deepest async stack it ever had until it ends (~30 KiB with
/// Hummingbird's WebSocket handler), and an idle connection should only cost
/// its objects. Only answering a message runs in a task, which ends with it.
final class LogSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// A ping unanswered after this long closes the connection (Hummingbird's default).
    private static let pingInterval: TimeAmount = .seconds(30)

    private let session: LogSession
    /// How long a close we sent waits for the client's close before the connection is dropped.
    private let closeTimeout: TimeAmount
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// False when the hub refused the connection (it is shutting down).
    private var isOpenInHub = false

    /// The message whose frames are arriving.
    private var assembly: LogSession.MessageAssembly?
    /// Complete messages not answered yet; socket reads wait while there are any.
    private var received: Deque<LogSession.Inbound> = []
    /// Nil while a task answers a message: the state is with it.
    private var state: LogSession.State? = LogSession.State()
    private var isReadHeldBack = false
    /// Set once the connection is closing: client messages are ignored from then on.
    private var ignoresMessages = false

    private var isCloseSent = false
    private var isGone = false
    private var closeTimer: Scheduled<Void>?
    private var pingTimer: Scheduled<Void>?
    /// The payload of the ping the client has not answered yet.
    private var unansweredPing: ByteBuffer?

    init(session: LogSession, closeTimeout: TimeAmount, logger: Logger) {
        self.session = session
        self.closeTimeout = closeTimeout
        self.logger = logger
    }

    private var outbox: ClientOutbox { session.outbox }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard session.hub.open(outbox) else {
            outbox.close(.goingAway, reason: "the gateway is shutting down", discardingQueue: true)
            writeQueued()
            return
        }
        isOpenInHub = true
        schedulePing()
        writeQueued()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stopTimers()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isGone = true
        ignoresMessages = true
        received.removeAll()
        stopTimers()
        outbox.abandon()
        endIfIdle()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("log WebSocket ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The HTTP server shuts down (the hub closed its WebSockets before, so this is a fallback).
        if event is ChannelShouldQuiesceEvent {
            outbox.close(.goingAway, reason: "the gateway is shutting down", discardingQueue: true)
            writeQueued()
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func stopTimers() {
        pingTimer?.cancel()
        pingTimer = nil
        closeTimer?.cancel()
        closeTimer = nil
    }

    /// Once the connection is gone and no message is being answered: ends the session's subscriptions.
    private func endIfIdle() {
        guard isGone, isOpenInHub, let state else { return }
        isOpenInHub = false
        let session = self.session
        Task { await session.end(state) }
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard frame.reservedBits.isEmpty else { return fail(.protocolError) }
            receive(frame)
        case .ping:
            guard frame.fin, frame.data.readableBytes < 126 else { return fail(.protocolError) }
            guard !isCloseSent else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            if frame.unmaskedData == unansweredPing { unansweredPing = nil }
        case .connectionClose:
            receivedClose(frame, context: context)
        default:
            fail(.protocolError)
        }
    }

    /// Holds back socket reads while messages wait to be answered, so a client
    /// is read no faster than it is answered.
    func read(context: ChannelHandlerContext) {
        if state == nil || !received.isEmpty {
            isReadHeldBack = true
        } else {
            context.read()
        }
    }

    private func receive(_ frame: WebSocketFrame) {
        guard !ignoresMessages else { return }
        var message: LogSession.MessageAssembly =
            frame.opcode == .continuation ? assembly ?? .init(isBinary: false) : .init(isBinary: frame.opcode == .binary)
        message.append(frame.unmaskedData)
        guard frame.fin else {
            assembly = message
            return
        }
        assembly = nil
        received.append(message.inbound)
        answerNext()
    }

    /// Starts answering the next message unless one is being answered; resumes reading when all are.
    private func answerNext() {
        guard let state, let context else { return }
        guard let inbound = received.popFirst() else {
            if isReadHeldBack {
                isReadHeldBack = false
                context.read()
            }
            return
        }
        self.state = nil
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let session = self.session
        Task {
            var state = state
            let keepsOpen = await session.answer(inbound, state: &state)
            handler.eventLoop.execute { [state] in handler.value.answered(state, keepsOpen: keepsOpen) }
        }
    }

    private func answered(_ state: LogSession.State, keepsOpen: Bool) {
        self.state = state
        if !keepsOpen {
            ignoresMessages = true
            received.removeAll()
        }
        endIfIdle()
        answerNext()
    }

    // MARK: Writing

    /// Writes what the outbox holds while the channel takes it; carries out a close.
    private func writeQueued() {
        guard let context, !isCloseSent else { return }
        var wrote = false
        defer { if wrote { context.flush() } }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let wake: @Sendable () -> Void = { handler.eventLoop.execute { handler.value.writeQueued() } }
        while context.channel.isWritable {
            switch outbox.next(wakingWhenReady: wake) {
            case .write(let batch):
                for frame in batch.frames {
                    context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: frame)), promise: nil)
                }
                wrote = true
                session.hub.metrics.linesDelivered.increment(by: batch.lineCount)
                outbox.didWrite(batch)
            case .wait:
                return
            case .close(let request?):
                sendClose(request.code, reason: request.reason, context: context)
                return
            case .close(nil):
                context.close(promise: nil)
                return
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writeQueued() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Closing

    /// A protocol error: close with `code`, whatever is still queued.
    private func fail(_ code: WebSocketErrorCode) {
        ignoresMessages = true
        outbox.close(code, reason: "", discardingQueue: true)
        writeQueued()
    }

    /// Sends a close and waits a little for the client's (RFC 6455 §7.1.1: the server closes the TCP connection).
    private func sendClose(_ code: WebSocketErrorCode, reason: String, context: ChannelHandlerContext) {
        isCloseSent = true
        ignoresMessages = true
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
    }

    /// The client closes: answer its close (as Hummingbird's handler does) and drop the connection.
    private func receivedClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard !isCloseSent else {
            context.close(promise: nil)
            return
        }
        isCloseSent = true
        ignoresMessages = true
        var data = frame.unmaskedData
        let code: WebSocketErrorCode =
            switch data.readableBytes == 0 ? .normalClosure : data.readWebSocketErrorCode() {
            case .unknown(let number)? where !(3000...4999).contains(number): .protocolError
            case .some: .normalClosure
            case nil: .protocolError
            }
        var reply = ByteBuffer()
        reply.write(webSocketErrorCode: code)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // MARK: Pings

    /// Pings every interval; a client that did not answer the last ping is gone (as Hummingbird's auto-ping does).
    private func schedulePing() {
        guard let context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTimer = context.eventLoop.scheduleTask(in: Self.pingInterval) { handler.value.ping() }
    }

    private func ping() {
        guard let context, !isCloseSent else { return }
        guard unansweredPing == nil else {
            sendClose(.goingAway, reason: "Ping timeout", context: context)
            context.close(promise: nil)
            return
        }
        var payload = ByteBuffer()
        payload.writeBytes((0..<16).map { _ in UInt8.random(in: .min ... .max) })
        unansweredPing = payload
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        schedulePing()
    }
}
