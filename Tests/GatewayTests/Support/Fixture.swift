import Foundation
import HTTPTypes
import Shared
import Testing
import TestSupport

/// A private Redis, a gateway process on it, and a fake agent "host-1" with three containers.
final class Fixture: Sendable {
    static let web = FakeAgent.container(0xa1, name: "web")
    /// Shares its first hex digits with `worker`, so a short prefix is ambiguous.
    static let api = FakeAgent.container(0xb1, name: "api")
    static let worker = FakeAgent.container(0xb2, name: "worker")

    let redis: RedisServer
    let client: RedisClient
    let agent: FakeAgent
    let gateway: GatewayProcess

    init(gatewayArguments: [String] = ["--token", GatewayProcess.token], agentOnline: Bool = true) async throws {
        redis = try await RedisServer()
        client = RedisClient(configuration: redis.configuration(), logger: testLogger)
        agent = try FakeAgent(redis: client, agent: "host-1")
        try await agent.register([Self.web, Self.api, Self.worker], online: agentOnline)
        gateway = try await GatewayProcess(redis: redis, arguments: gatewayArguments)
    }

    deinit { client.close() }

    /// A WebSocket on `/api/logs/ws` (or `path`).
    func connect(path: String = "/api/logs/ws", reading: Bool = true) async throws -> TestWebSocket {
        try await TestWebSocket(port: gateway.port, path: path, reading: reading)
    }

    func zcountLiveRefs(_ container: ContainerInfo) async throws -> Int {
        let key = agent.keys.refs(agent.agent, try ContainerID(container.id))
        return try await client.send(RedisCommand("ZCOUNT", .string(key), .string(String(Leases.milliseconds())), "+inf")).int()
    }
}

/// `{"type":"log.subscribe","data":{…}}` as text.
func subscribeMessage(_ container: String, agent: String? = "host-1", id: String? = nil, extra: [String: Any] = [:]) -> String {
    var data: [String: Any] = ["containerId": container]
    if let agent { data["agentId"] = agent }
    data.merge(extra) { $1 }
    var message: [String: Any] = ["type": "log.subscribe", "data": data]
    if let id { message["id"] = id }
    return String(decoding: try! JSONSerialization.data(withJSONObject: message), as: UTF8.self)
}

func unsubscribeMessage(_ container: String, agent: String = "host-1", id: String? = nil) -> String {
    var message: [String: Any] = ["type": "log.unsubscribe", "data": ["containerId": container, "agentId": agent]]
    if let id { message["id"] = id }
    return String(decoding: try! JSONSerialization.data(withJSONObject: message), as: UTF8.self)
}

/// The integration tests share the machine's two cores: they run one at a time.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct Integration {}
