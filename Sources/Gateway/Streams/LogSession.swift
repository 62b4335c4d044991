import NIOCore
import Shared

/// What one log WebSocket says (SPEC §4): answers the client's messages, one
/// at a time, into the connection's outbox. The connection's `LogSocketHandler`
/// reads the messages and writes what the outbox holds.
struct LogSession: Sendable {
    let hub: LogStreamHub
    /// The agent named by the URL (`/api/agents/{agentId}/logs/ws`); nil on `/api/logs/ws`.
    let routeAgent: AgentID?
    let outbox: ClientOutbox

    /// What the session keeps between messages.
    struct State: Sendable {
        var subscriptions: [StreamKey: ContainerInfo] = [:]
        var badMessagesInARow = 0
    }

    /// One message from the client, read or refused.
    enum Inbound: Sendable {
        case message(ClientMessage)
        case refused(id: MessageID?, ErrorPayload)
    }

    /// A client message being put together from its frames; never holds more than the limit.
    struct MessageAssembly {
        private var bytes = ByteBuffer()
        private let isBinary: Bool
        private var isTooLarge = false

        init(isBinary: Bool) {
            self.isBinary = isBinary
        }

        mutating func append(_ data: ByteBuffer) {
            guard !isTooLarge else { return }
            guard bytes.readableBytes + data.readableBytes <= ClientMessageDecoder.maximumSize else {
                isTooLarge = true
                bytes = ByteBuffer()
                return
            }
            var data = data
            bytes.writeBuffer(&data)
        }

        var inbound: Inbound {
            if isTooLarge {
                return .refused(id: nil, ErrorPayload(code: .tooLarge, message: "message exceeds the limit of \(ClientMessageDecoder.maximumSize) bytes"))
            }
            if isBinary {
                return .refused(id: nil, ErrorPayload(code: .badRequest, message: "binary messages are not supported; send JSON text"))
            }
            switch ClientMessageDecoder.decode(Array(bytes.readableBytesView)) {
            case .success(let message): return .message(message)
            case .failure(let error): return .refused(id: error.id, error.payload)
            }
        }
    }

    /// Answers one message once the outbox has room (a client that does not
    /// read cannot make replies pile up); false when the connection is to close.
    func answer(_ inbound: Inbound, state: inout State) async -> Bool {
        await outbox.waitForRoom()
        return await handle(inbound, state: &state)
    }

    /// Ends what a closed connection still holds.
    func end(_ state: State) async {
        for stream in state.subscriptions.keys {
            await hub.detach(stream, from: outbox)
        }
        hub.close(outbox)
    }

    // MARK: Answering

    /// Answers one message; false when the connection is to close.
    private func handle(_ inbound: Inbound, state: inout State) async -> Bool {
        let refusal: (id: MessageID?, payload: ErrorPayload)?
        switch inbound {
        case .refused(let id, let payload):
            refusal = (id, payload)
        case .message(let message):
            let problem: ErrorPayload? =
                switch message.request {
                case .subscribe(let request): await subscribe(request, id: message.id, state: &state)
                case .unsubscribe(let request): await unsubscribe(request, id: message.id, state: &state)
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
    private func subscribe(_ request: SubscribeRequest, id: MessageID?, state: inout State) async -> ErrorPayload? {
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
                LineFrames.control(.subscribed, id: id, SubscribedPayload(agentId: agent.rawValue, containerId: containerID.rawValue, name: container.name, epoch: window.epoch.description)),
                LineFrames.history(id: id, stream: stream, epoch: window.epoch.description, complete: selection.complete, lines: selection.lines),
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

    private func unsubscribe(_ request: UnsubscribeRequest, id: MessageID?, state: inout State) async -> ErrorPayload? {
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
}
