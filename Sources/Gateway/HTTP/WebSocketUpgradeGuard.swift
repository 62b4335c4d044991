import NIOCore
import NIOHTTP1

/// Lets only allowed requests upgrade to a WebSocket, and makes refused ones
/// get a real answer.
///
/// NIO's upgrade handler can only answer a refused upgrade with an empty 400.
/// SPEC §3 wants 401 (or 403) with a JSON body, so this handler sits in front
/// of it: from a request that may not upgrade (not a log WebSocket path, or
/// one the `AccessPolicy` refuses) it removes the `Upgrade` header, so the
/// request is not an upgrade attempt at all and the HTTP router answers it,
/// with `AccessMiddleware` or the route producing the error.
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
        if head.headers.contains(name: "upgrade"), !Self.mayUpgrade(head, policy: policy) {
            head.headers.remove(name: "upgrade")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        // Only the first request of a connection can be an upgrade: NIO's upgrade handler leaves after it.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// A GET of a log WebSocket path that the policy allows.
    static func mayUpgrade(_ head: HTTPRequestHead, policy: AccessPolicy) -> Bool {
        head.method == .GET && LogSocketPath(uri: head.uri) != nil && policy.decide(credentials(head)) == .allowed
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
