import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Every plain HTTP route of SPEC §3.
func buildRouter(
    _ configuration: GatewayConfiguration,
    fleet: FleetDirectory,
    health: RedisHealthMonitor,
    metrics: GatewayMetrics
) throws -> Router<BasicRequestContext> {
    let assets = try WebAssets()
    let router = Router()
    router.add(middleware: SecurityHeadersMiddleware())

    router.get("/") { _, _ in try assets.response(for: "") }
    router.get("/{file}") { _, context in try assets.response(for: context.parameters.require("file")) }

    router.get("/healthz") { _, _ in
        health.isRedisUp
            ? Response.json(bytes: ByteBuffer(string: #"{"status":"ok","redis":"up"}"#))
            : Response.json(bytes: ByteBuffer(string: #"{"status":"degraded","redis":"down"}"#), status: .serviceUnavailable)
    }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
        )
    }

    let api = router.group("api").add(middleware: AccessMiddleware(policy: configuration.access))
    SessionRoutes(policy: configuration.access).add(to: router.group("api/session"))
    api.get("agents") { _, _ in Response.json(try await fleet.agents()) }
    api.get("agents/{agentId}/containers") { _, context in
        let agent = try agentID(context)
        guard let json = try await fleet.containerListJSON(of: agent) else {
            throw APIError.notFound("no agent '\(agent)' is known")
        }
        return Response.json(bytes: json)
    }
    // Reached by requests that are not (allowed) WebSocket upgrades.
    let upgradeRequired = { @Sendable (_: Request, _: BasicRequestContext) throws -> Response in
        throw APIError(status: .upgradeRequired, code: "upgrade_required", message: "this is a WebSocket endpoint")
    }
    api.get("logs/ws", use: upgradeRequired)
    api.get("agents/{agentId}/logs/ws") { request, context in
        _ = try agentID(context)  // a bad id is the answer, before the missing upgrade
        return try upgradeRequired(request, context)
    }
    return router
}

/// The `{agentId}` of the path, checked before it names anything in Redis.
private func agentID(_ context: some RequestContext) throws -> AgentID {
    do {
        return try AgentID(try context.parameters.require("agentId"))
    } catch let error as IdentifierError {
        throw APIError.badRequest(error.description)
    }
}
