import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Shared

/// One connection to the gateway: HTTP/1 for the web UI and the API, or a log
/// WebSocket (`/api/logs/ws`, `/api/agents/{agentId}/logs/ws`) once upgraded.
///
/// Set up like Hummingbird's `HTTP1WebSocketUpgradeChannel`, with a
/// `WebSocketUpgradeGuard` in front of the upgrade, except that a WebSocket
/// is served by a `LogSocketHandler` on the channel itself: the task that
/// Hummingbird runs for each connection ends at the upgrade, instead of
/// holding ~30 KiB of async stack for as long as the WebSocket is open.
struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    enum Upgrade: Sendable {
        case webSocket
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade that was asked for and refused.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        let channel: any Channel
    }

    /// Room for a client message over the 64 KiB limit, which gets a `too_large` answer, not a dropped connection.
    static let maxFrameSize = 1 << 20

    let responder: Responder
    let hub: LogStreamHub
    let policy: AccessPolicy
    private let http1 = HTTP1Channel.Configuration()

    init(responder: @escaping Responder, hub: LogStreamHub, policy: AccessPolicy) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.hub = hub
        self.policy = policy
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                maxFrameSize: Self.maxFrameSize,
                shouldUpgrade: { [policy] channel, head in
                    upgradeAttempted.value = true
                    // The guard let only these through; checked once more, as the HTTP API does.
                    let isAllowed = WebSocketUpgradeGuard.mayUpgrade(head, policy: policy)
                    return channel.eventLoop.makeSucceededFuture(isAllowed ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { [hub] channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let outbox = ClientOutbox(limit: hub.settings.outboundQueueLimit, metrics: hub.metrics)
                        let session = LogSession(hub: hub, routeAgent: LogSocketPath(uri: head.uri)?.agent, outbox: outbox)
                        let handler = LogSocketHandler(session: session, closeTimeout: TimeAmount(hub.settings.closeTimeout), logger: logger)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return .webSocket
                    }
                }
            )
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [http1] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try operations.addHandlers(http1.additionalChannelHandlers())
                        try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? .refused(http) : .http(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgradeConfiguration)
            configuration.enablePipelining = false  // NIOAsyncChannel pipelines HTTP
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // Swift HTTP Types validated them already
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let operations = channel.pipeline.syncOperations
            let upgrade = try operations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            let upgradeHandler = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<Upgrade>.self)
            try operations.addHandler(WebSocketUpgradeGuard(policy: policy), position: .before(upgradeHandler))
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgrade.get() {
            case .webSocket:
                return  // the channel's LogSocketHandler serves it from now on
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http):
                await Self.refuseUpgrade(http, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("upgrade failed as input was closed")
        } catch {
            logger.error("error handling upgrade result", metadata: ["error.type": "\(error)"])
        }
    }

    /// An empty 400, as Hummingbird answers a refused upgrade.
    private static func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("failed to write to channel: \(error)")
        }
    }

    /// NIO upgrades only a connection's first request. A later upgrade request
    /// is redirected to the same path and the connection closed, so the client
    /// tries again on a new one (as Hummingbird does).
    private static func redirectingLateUpgrades(_ responder: @escaping Responder) -> Responder {
        struct RedirectCloseError: Error {}
        return { (request: Request, responseWriter: consuming ResponseWriter, channel: any Channel) in
            guard request.headers[.upgrade] == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            let location = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
            try await responseWriter.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw RedirectCloseError()
        }
    }
}

/// The log WebSocket paths: `/api/logs/ws`, or `/api/agents/{agentId}/logs/ws` with a valid agent id.
struct LogSocketPath {
    /// The agent of `/api/agents/{agentId}/logs/ws`; nil on `/api/logs/ws`.
    let agent: AgentID?

    init?(uri: String) {
        let path = uri.prefix { $0 != "?" }.split(separator: "/")
        switch path.count {
        case 3 where path == ["api", "logs", "ws"]:
            agent = nil
        case 5 where path[0] == "api" && path[1] == "agents" && path[3...] == ["logs", "ws"]:
            guard let agent = try? AgentID(String(path[2])) else { return nil }
            self.agent = agent
        default:
            return nil
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the log WebSockets, upgrades guarded by `policy`.
    static func gateway(hub: LogStreamHub, policy: AccessPolicy) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GatewayChannel(responder: responder, hub: hub, policy: policy)
        }
    }
}
