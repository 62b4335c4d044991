import Foundation
import NIOCore
import Shared
import Synchronization
import Testing
import TestSupport

/// A real `tailgate-agent` process on the test Docker engine, writing to a private Redis,
/// plus the gateway side of the protocol (references, control messages) done by hand.
final class AgentHarness: Sendable {
    let redisServer: RedisServer
    let redis: RedisClient
    let keys = RedisKeys()
    let docker = DockerCLI()
    let agent: AgentProcess
    var agentID: AgentID { agent.agentID }

    /// - Parameter agentUser: the ACL user and password the agent connects as, when not the default user.
    init(agentUser: (name: String, password: String)? = nil) async throws {
        redisServer = try await RedisServer()
        redis = RedisClient(configuration: redisServer.configuration(), logger: testLogger)
        var agentURL = redisServer.url
        if let agentUser {
            // Everything, on every key and channel, but PUBLISH; a test grants it with `+publish`.
            try await redisServer.cli("ACL", "SETUSER", agentUser.name, "on", ">\(agentUser.password)", "~*", "&*", "+@all", "-publish")
            (agentURL.username, agentURL.password) = (agentUser.name, agentUser.password)
        }
        agent = try AgentProcess(redis: agentURL, dockerHost: docker.host)
    }

    deinit {
        redis.close()
    }

    /// Takes a reference the way a gateway does: lease in `refs`, then `log.stream.start`.
    func watch(_ container: ContainerID, lease: Duration = .seconds(60)) async throws {
        _ = try await redis.pipeline([
            RedisCommand("ZADD", .string(keys.refs(agentID, container)), .string(String(Leases.milliseconds(plus: lease))), "test-gateway"),
            RedisCommand("PUBLISH", .string(keys.control(agentID)), .bytes(try JSONEncoder().encode(ControlMessage(.start, containerId: container)).map { $0 })),
        ])
    }

    func unwatch(_ container: ContainerID) async throws {
        _ = try await redis.pipeline([
            RedisCommand("ZREM", .string(keys.refs(agentID, container)), "test-gateway"),
            RedisCommand("PUBLISH", .string(keys.control(agentID)), .bytes(try JSONEncoder().encode(ControlMessage(.stop, containerId: container)).map { $0 })),
        ])
    }

    /// The containers the agent says it follows now.
    func followedStreams() async throws -> [String] {
        guard let json = try await redis.send(RedisCommand("HGET", .string(keys.agent(agentID)), "streams")).string() else { return [] }
        return try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }

    func history(_ container: ContainerID) async throws -> [LogLine] {
        try await redis.send(RedisCommand("LRANGE", .string(keys.history(agentID, container)), "0", "-1")).array().map {
            try decodeLine(try $0.string() ?? "")
        }
    }

    /// Subscribes to a stream's channel; returns once Redis confirmed.
    fileprivate func subscribe(_ container: ContainerID) async throws -> (RedisSubscriber, RedisSubscriberEvents) {
        let (subscriber, events) = redis.makeSubscriber()
        try await subscriber.subscribe([keys.logs(agentID, container)])
        return (subscriber, events)
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// The agent's log, for failure messages.
    var agentLog: String { agent.log }
}

/// A message on a stream's channel.
enum ChannelFrame: Equatable {
    case line(LogLine)
    case other(type: String, json: String)
}

func decodeLine(_ json: String) throws -> LogLine {
    try JSONDecoder().decode(Frame<LogLine>.self, from: Data(json.utf8)).data
}

func decodeChannelFrame(_ payload: ByteBuffer) throws -> ChannelFrame {
    let json = String(buffer: payload)
    struct TypeOnly: Decodable { var type: String }
    let type = try JSONDecoder().decode(TypeOnly.self, from: Data(json.utf8)).type
    return type == "log.line" ? .line(try decodeLine(json)) : .other(type: type, json: json)
}

/// Records every frame published on one stream's channel, from subscription on.
final class ChannelRecorder: Sendable {
    private let subscriber: RedisSubscriber
    private final class Log: Sendable {
        let frames = Mutex<[ChannelFrame]>([])
    }

    private let recorded = Log()
    private let drain: Task<Void, Never>

    init(_ harness: AgentHarness, _ container: ContainerID) async throws {
        let (subscriber, events) = try await harness.subscribe(container)
        self.subscriber = subscriber
        let recorded = self.recorded
        drain = Task {
            for await event in events {
                if case .message(_, let payload) = event, let frame = try? decodeChannelFrame(payload) {
                    recorded.frames.withLock { $0.append(frame) }
                }
            }
        }
    }

    deinit {
        drain.cancel()
        subscriber.close()
    }

    var frames: [ChannelFrame] { recorded.frames.withLock { $0 } }

    var lines: [LogLine] {
        frames.compactMap { if case .line(let line) = $0 { line } else { nil } }
    }

    /// Whether `log.stream.ended` came.
    var sawStreamEnded: Bool {
        frames.contains { if case .other(let type, _) = $0 { type == "log.stream.ended" } else { false } }
    }
}
