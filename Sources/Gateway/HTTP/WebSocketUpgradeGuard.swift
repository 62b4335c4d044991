import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Lets only allowed requests upgrade to a WebSocket, and makes refused ones
/// get a real answer.
///
/// Hummingbird answers every refused upgrade with an empty 400. SPEC §3 wants
/// 401 (or 403) with a JSON body, so this handler sits in front of NIO's
/// upgrade handler: for a request the `AccessPolicy` refuses it removes the
/// `Upgrade` header, so the request is not an upgrade attempt at all and the
/// HTTP router answers it, with `AccessMiddleware` producing the error.
final class WebSocketUpgradeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let policy: AccessPolicy

    init(policy: AccessPolicy) {
        self.policy = policy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if head.headers.contains(name: "upgrade"), policy.decide(Self.credentials(head)) != .allowed {
            head.headers.remove(name: "upgrade")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        // Only the first request of a connection can be an upgrade: NIO's upgrade handler leaves after it.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private static func credentials(_ head: HTTPRequestHead) -> AccessPolicy.Credentials {
        let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        return AccessPolicy.Credentials(
            authorization: head.headers["authorization"].first,
            cookieHeaders: head.headers["cookie"],
            query: query,
            origin: head.headers["origin"].first,
            host: head.headers["host"].first
        )
    }
}

/// Hummingbird's HTTP/1 + WebSocket channel with a `WebSocketUpgradeGuard` in front of the upgrade.
struct GuardedWebSocketUpgradeChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let upgradeChannel: HTTP1WebSocketUpgradeChannel
    let policy: AccessPolicy

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        upgradeChannel.setup(channel: channel, logger: logger).flatMapThrowing { [policy] value in
            let operations = channel.pipeline.syncOperations
            let upgrader = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try operations.addHandler(WebSocketUpgradeGuard(policy: policy), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await upgradeChannel.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with WebSocket upgrades through `webSocketRouter`, guarded by `policy`.
    static func guardedWebSocketUpgrade<WebSocketRouter: HTTPResponderBuilder>(
        webSocketRouter: WebSocketRouter,
        configuration: HTTP1WebSocketUpgradeChannel.Configuration,
        policy: AccessPolicy
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            GuardedWebSocketUpgradeChannel(
                upgradeChannel: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    webSocketResponder: webSocketResponder,
                    configuration: configuration
                ),
                policy: policy
            )
        }
    }
}
