import Foundation
import NIOCore
import Synchronization
import Shared
import TestSupport

/// Writes to Redis what a real agent writes (SPEC §2), so the gateway can be
/// tested without Docker: the heartbeat, the agent hash, the container list,
/// and log lines pushed, trimmed and published atomically.
struct FakeAgent: Sendable {
    let redis: RedisClient
    let keys = RedisKeys()
    let agent: AgentID
    var historySize = 1000

    /// Pushes, trims and publishes a batch of frames in one script, as the agent does.
    private static let publish = RedisScript(
        """
        local size = tonumber(ARGV[2])
        for i = 5, #ARGV do
          redis.call('LPUSH', KEYS[1], ARGV[i])
          redis.call('LTRIM', KEYS[1], 0, size - 1)
          redis.call('PUBLISH', ARGV[1], ARGV[i])
        end
        redis.call('HSET', KEYS[2], 'seq', ARGV[3], 'epoch', ARGV[4], 'lastTimestamp', '2026-01-01T00:00:00.000000000Z')
        return 1
        """
    )

    init(redis: RedisClient, agent: String) throws {
        self.redis = redis
        self.agent = try AgentID(agent)
    }

    static func container(_ seed: Int, name: String) -> ContainerInfo {
        let id = String(repeating: String(format: "%02x", seed % 256), count: 32)
        return ContainerInfo(id: id, name: name, image: "busybox", state: "running", status: "Up 1 minute", createdAt: "2026-01-01T00:00:00Z", tty: false)
    }

    func register(_ containers: [ContainerInfo], online: Bool = true, streams: [String] = []) async throws {
        let deadline = Leases.milliseconds(plus: online ? Leases.heartbeatLease : .seconds(-60))
        let containerList = String(decoding: try JSONEncoder().encode(containers), as: UTF8.self)
        let streamList = String(decoding: try JSONEncoder().encode(streams), as: UTF8.self)
        _ = try await redis.pipeline([
            RedisCommand("ZADD", .string(keys.agents), .string(String(deadline)), .string(agent.rawValue)),
            RedisCommand("HSET", .string(keys.agent(agent)), "hostname", "\(agent)-host", "version", "test", "dockerVersion", "27.0", "startedAt", "2026-01-01T00:00:00Z", "streams", .string(streamList)),
            RedisCommand("SET", .string(keys.containers(agent)), .string(containerList)),
        ])
    }

    /// Publishes lines `seqs` of `container` (each line's message says its seq).
    func publish(_ container: String, seqs: ClosedRange<Int>, epoch: String = "epoch1", messageSize: Int = 0) async throws {
        let padding = String(repeating: "x", count: messageSize)
        let frames: [RedisArgument] = seqs.map { seq in
            .bytes(
                LogLineFrame.encode(
                    LogLine(
                        agentId: agent.rawValue, containerId: container, seq: seq, epoch: epoch,
                        timestamp: "2026-01-01T00:00:00.000000000Z", stream: "stdout", message: "line \(seq)\(padding)"
                    )
                )
            )
        }
        let id = try ContainerID(container)
        _ = try await redis.run(
            Self.publish,
            keys: [keys.history(agent, id), keys.meta(agent, id)],
            arguments: [.string(keys.logs(agent, id)), .int(historySize), .int(seqs.upperBound), .string(epoch)] + frames
        )
    }

    /// A frame other than a line, as the agent publishes it (e.g. `log.stream.ended`).
    func publishEvent(_ container: String, json: String) async throws {
        try await redis.send(RedisCommand("PUBLISH", .string(keys.logs(agent, try ContainerID(container))), .string(json)))
    }
}

/// Collects what gateways tell an agent on its control channel.
final class ControlListener: Sendable {
    private let subscriber: RedisSubscriber
    private let messages = Mutex<[String]>([])

    init(redis: RedisServer, agent: String) async throws {
        let events: RedisSubscriberEvents
        (subscriber, events) = RedisSubscriber.withEvents(configuration: redis.configuration(), logger: testLogger)
        Task { [weak self] in
            for await event in events {
                if case .message(_, let payload) = event { self?.messages.withLock { $0.append(String(buffer: payload)) } }
            }
        }
        try await subscriber.subscribe([RedisKeys().control(try AgentID(agent))])
    }

    deinit { subscriber.close() }

    var received: [String] { messages.withLock { $0 } }

    /// How many `log.stream.start` or `log.stream.stop` messages came for `container`.
    func count(_ kind: ControlMessage.Kind, _ container: ContainerInfo) -> Int {
        received.filter { message in
            let decoded = try? JSONDecoder().decode(ControlMessage.self, from: Data(message.utf8))
            return decoded?.type == kind && decoded?.data.containerId.rawValue == container.id
        }.count
    }
}
