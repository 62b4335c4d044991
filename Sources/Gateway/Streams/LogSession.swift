import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Shared

/// One log WebSocket (SPEC §4): reads the client's messages and answers
/// them, while a writer task sends whatever the connection's outbox holds.
struct LogSession: Sendable {
    let hub: LogStreamHub
    /// The agent named by the URL (`/api/agents/{agentId}/logs/ws`); nil on `/api/logs/ws`.
    let routeAgent: AgentID?
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let outbox = ClientOutbox(limit: hub.settings.outboundQueueLimit, metrics: hub.metrics)
        guard hub.open(outbox) else {
            try? await outbound.close(.goingAway, reason: "the gateway is shutting down")
            return
        }
        let subscriptions = await withTaskGroup(of: [StreamKey: ContainerInfo]?.self) { group in
            group.addTask {
                let subscriptions = await self.readMessages(from: inbound, outbox: outbox)
                outbox.abandon()  // the client left (no-op when the reader asked to close)
                return subscriptions
            }
            group.addTask {
                await Self.writeFrames(from: outbox, to: outbound, metrics: hub.metrics)
                return nil
            }
            var subscriptions: [StreamKey: ContainerInfo] = [:]
            for await result in group {
                if let result {
                    subscriptions = result
                } else {
                    group.cancelAll()  // the writer closed the connection (or lost it): stop reading
                }
            }
            return subscriptions
        }
        for stream in subscriptions.keys {
            await hub.detach(stream, from: outbox)
        }
        hub.close(outbox)
    }

    // MARK: Reading

    /// What the reader keeps between messages.
    private struct ReaderState {
        var subscriptions: [StreamKey: ContainerInfo] = [:]
        var badMessagesInARow = 0
    }

    /// Reads until the client leaves or must be closed; returns the subscriptions to end.
    private func readMessages(from inbound: WebSocketInboundStream, outbox: ClientOutbox) async -> [StreamKey: ContainerInfo] {
        var state = ReaderState()
        var frames = inbound.makeAsyncIterator()
        var message = ByteBuffer()
        var isBinary = false
        var isTooLarge = false
        do {
            while let frame = try await frames.next() {
                if frame.opcode != .continuation {
                    message.clear()
                    isBinary = frame.opcode == .binary
                    isTooLarge = false
                }
                // Never hold more than the limit, whatever the client sends.
                if !isTooLarge, message.readableBytes + frame.data.readableBytes > ClientMessageDecoder.maximumSize {
                    isTooLarge = true
                    message = ByteBuffer()
                } else if !isTooLarge {
                    var data = frame.data
                    message.writeBuffer(&data)
                }
                guard frame.fin else { continue }
                await outbox.waitForRoom()
                let decoded: Inbound =
                    if isTooLarge {
                        .refused(id: nil, ErrorPayload(code: .tooLarge, message: "message exceeds the limit of \(ClientMessageDecoder.maximumSize) bytes"))
                    } else if isBinary {
                        .refused(id: nil, ErrorPayload(code: .badRequest, message: "binary messages are not supported; send JSON text"))
                    } else {
                        switch ClientMessageDecoder.decode(Array(message.readableBytesView)) {
                        case .success(let message): .message(message)
                        case .failure(let error): .refused(id: error.id, error.payload)
                        }
                    }
                guard await handle(decoded, state: &state, outbox: outbox) else { break }
            }
        } catch {
            logger.debug("log WebSocket ended", metadata: ["error": "\(error)"])
        }
        return state.subscriptions
    }

    /// One message from the client, read or refused.
    private enum Inbound {
        case message(ClientMessage)
        case refused(id: MessageID?, ErrorPayload)
    }

    /// Answers one message; false when the connection is to close.
    private func handle(_ inbound: Inbound, state: inout ReaderState, outbox: ClientOutbox) async -> Bool {
        let refusal: (id: MessageID?, payload: ErrorPayload)?
        switch inbound {
        case .refused(let id, let payload):
            refusal = (id, payload)
        case .message(let message):
            let problem: ErrorPayload? =
                switch message.request {
                case .subscribe(let request): await subscribe(request, id: message.id, state: &state, outbox: outbox)
                case .unsubscribe(let request): await unsubscribe(request, id: message.id, state: &state, outbox: outbox)
                }
            refusal = problem.map { (message.id, $0) }
        }
        guard let refusal else {
            state.badMessagesInARow = 0
            return true
        }
        outbox.send(LineFrames.control(.error, id: refusal.id, refusal.payload))
        state.badMessagesInARow += 1
        guard state.badMessagesInARow <= hub.settings.maximumBadMessages else {
            outbox.close(.policyViolation, reason: "too many bad messages", discardingQueue: false)
            return false
        }
        return true
    }

    /// The agent a message is about, or what is wrong with it.
    private func agent(requested: AgentID?) -> Result<AgentID, ErrorPayload> {
        switch (routeAgent, requested) {
        case (let route?, nil): .success(route)
        case (let route?, let requested?) where requested == route: .success(route)
        case (let route?, let requested?): .failure(ErrorPayload(code: .badRequest, message: "'agentId' \(requested) is not the agent of this URL (\(route))"))
        case (nil, let requested?): .success(requested)
        case (nil, nil): .failure(ErrorPayload(code: .badRequest, message: "'agentId' is required on /api/logs/ws"))
        }
    }

    // MARK: Subscribe

    /// Answers a subscribe; returns the `error` payload for a bad request (the only kind that counts as bad).
    private func subscribe(_ request: SubscribeRequest, id: MessageID?, state: inout ReaderState, outbox: ClientOutbox) async -> ErrorPayload? {
        let agent: AgentID
        switch self.agent(requested: request.agentId) {
        case .success(let value): agent = value
        case .failure(let problem): return problem
        }
        let streamError = { (code: StreamErrorCode, container: String, message: String) in
            outbox.send(LineFrames.control(.streamError, id: id, StreamErrorPayload(agentId: agent.rawValue, containerId: container, code: code, message: message)))
        }
        let known: FleetDirectory.AgentContainers?
        do {
            known = try await hub.fleet.containers(of: agent)
        } catch {
            streamError(.internal, request.containerId.rawValue, "Redis unavailable: \(error)")
            return nil
        }
        guard let known else {
            streamError(.notFound, request.containerId.rawValue, "no agent '\(agent)' is known")
            return nil
        }
        let container: ContainerInfo
        switch request.containerId.resolve(in: known.containers, id: \.id, name: \.name) {
        case .found(let found):
            container = found
        case .notFound:
            streamError(.notFound, request.containerId.rawValue, "agent '\(agent)' has no container '\(request.containerId)'")
            return nil
        case .ambiguous(let count):
            streamError(.notFound, request.containerId.rawValue, "'\(request.containerId)' is ambiguous: it begins \(count) container ids on agent '\(agent)'; give more of the id")
            return nil
        }
        guard let containerID = try? ContainerID(container.id) else {
            streamError(.notFound, request.containerId.rawValue, "agent '\(agent)' lists container '\(container.name)' with an invalid id")
            return nil
        }
        let stream = StreamKey(agent: agent, container: containerID)
        let isNew = state.subscriptions[stream] == nil
        if isNew, state.subscriptions.count >= hub.settings.maximumSubscriptions {
            outbox.send(
                LineFrames.control(.error, id: id, ErrorPayload(code: .tooManySubscriptions, message: "at most \(hub.settings.maximumSubscriptions) subscriptions per connection"))
            )
            return nil
        }

        // Held back from here: what is published while the history is read.
        let ticket = outbox.beginSubscription(to: stream, batchable: request.batch)
        do {
            if isNew {
                try await hub.attach(stream, to: outbox)
                state.subscriptions[stream] = container
            }
            let limit = hub.settings.historyLimit
            let window = try await hub.history(of: stream, limit: request.resume == nil ? min(request.tail ?? limit, limit) : limit)
            let selection = window.selection(tail: min(request.tail ?? limit, limit), resume: request.resume)
            var replies = [
                LineFrames.control(.subscribed, id: id, SubscribedPayload(agentId: agent.rawValue, containerId: containerID.rawValue, name: container.name, epoch: window.epoch)),
                LineFrames.history(id: id, stream: stream, epoch: window.epoch, complete: selection.complete, lines: selection.lines),
            ]
            if !known.isOnline {
                replies.append(
                    LineFrames.control(
                        .streamError, id: id,
                        StreamErrorPayload(agentId: agent.rawValue, containerId: containerID.rawValue, code: .agentOffline, message: "agent '\(agent)' has not sent a heartbeat recently; lines follow when it is back")
                    )
                )
            }
            outbox.completeSubscription(to: stream, ticket: ticket, replies: replies, historyEnd: window.end)
        } catch {
            let reply = LineFrames.control(
                .streamError, id: id,
                StreamErrorPayload(agentId: agent.rawValue, containerId: containerID.rawValue, code: .internal, message: "Redis unavailable: \(error)")
            )
            if isNew {
                outbox.endSubscription(to: stream)
                if state.subscriptions.removeValue(forKey: stream) != nil { await hub.detach(stream, from: outbox) }
                outbox.send(reply)
            } else {
                outbox.completeSubscription(to: stream, ticket: ticket, replies: [reply], historyEnd: nil)
            }
        }
        return nil
    }

    // MARK: Unsubscribe

    private func unsubscribe(_ request: UnsubscribeRequest, id: MessageID?, state: inout ReaderState, outbox: ClientOutbox) async -> ErrorPayload? {
        let agent: AgentID
        switch self.agent(requested: request.agentId) {
        case .success(let value): agent = value
        case .failure(let problem): return problem
        }
        let mine = state.subscriptions.filter { $0.key.agent == agent }
        var containerId = request.containerId.rawValue
        switch request.containerId.resolve(in: mine, id: \.value.id, name: \.value.name) {
        case .found(let subscription):
            outbox.endSubscription(to: subscription.key)
            state.subscriptions[subscription.key] = nil
            await hub.detach(subscription.key, from: outbox)
            containerId = subscription.key.container.rawValue
        case .notFound:
            break  // Not subscribed: nothing to end, the answer is the same.
        case .ambiguous(let count):
            return ErrorPayload(code: .badRequest, message: "'\(request.containerId)' is ambiguous: it begins \(count) of this connection's subscriptions")
        }
        outbox.send(LineFrames.control(.unsubscribed, id: id, StreamPayload(agentId: agent.rawValue, containerId: containerId)))
        return nil
    }

    // MARK: Writing

    private static func writeFrames(from outbox: ClientOutbox, to outbound: WebSocketOutboundWriter, metrics: GatewayMetrics) async {
        while let batch = await outbox.nextBatch() {
            do {
                for frame in batch.frames {
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: frame)))
                }
            } catch {
                outbox.abandon()
                return
            }
            metrics.linesDelivered.increment(by: batch.lineCount)
            outbox.didWrite(batch)
        }
        if let close = outbox.closeRequest {
            try? await outbound.close(close.code, reason: close.reason)
        }
    }
}
