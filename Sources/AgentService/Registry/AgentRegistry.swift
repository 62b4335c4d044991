import Foundation
import Logging
import Shared
import Synchronization

/// Keeps the agent's entries in Redis current (SPEC §2): the heartbeat in
/// `tailgate:agents` and `tailgate:agent:{id}`, and the container list in
/// `tailgate:containers:{id}`, rewritten on every Docker event.
final class AgentRegistry: Sendable {
    private let redis: RedisClient
    private let docker: DockerClient
    private let keys: RedisKeys
    private let agentID: AgentID
    private let logger: Logger
    private let startedAt = ISO8601DateFormatter().string(from: Date())
    private let hostname = ProcessInfo.processInfo.hostName
    /// The containers as last listed (and as JSON for Redis), and each one's TTY flag (which never changes, so is inspected once).
    private let pendingFollowUp = Mutex<Task<Void, any Error>?>(nil)
    private let known = Mutex<(containers: [ContainerInfo], json: [UInt8]?, tty: [String: Bool])>(([], nil, [:]))

    init(redis: RedisClient, docker: DockerClient, keys: RedisKeys, agentID: AgentID, logger: Logger) {
        self.redis = redis
        self.docker = docker
        self.keys = keys
        self.agentID = agentID
        self.logger = logger
    }

    /// The ids of the host's containers as last listed.
    var containerIDs: [ContainerID] {
        known.withLock { $0.containers.compactMap { try? ContainerID($0.id) } }
    }

    /// Writes the heartbeat: online until `now + heartbeatLease`, and what is followed now.
    /// The container list goes along, so a Redis that restarted empty has it again at once.
    func heartbeat(streams: [ContainerID]) async throws {
        let streamsJSON = String(decoding: try JSONEncoder().encode(streams.map(\.rawValue)), as: UTF8.self)
        let containersJSON = known.withLock { $0.json }
        _ = try await redis.pipeline((containersJSON.map { [RedisCommand("SET", .string(keys.containers(agentID)), .bytes($0))] } ?? []) + [
            RedisCommand("ZADD", .string(keys.agents), .string(String(Leases.milliseconds(plus: Leases.heartbeatLease))), .string(agentID.rawValue)),
            RedisCommand(
                "HSET", .string(keys.agent(agentID)),
                "hostname", .string(hostname),
                "version", .string(TailgateAgent.version),
                "dockerVersion", .string(docker.engineVersion.version),
                "startedAt", .string(startedAt),
                "streams", .string(streamsJSON)
            ),
        ]).map { try $0.checked() }
    }

    /// Lists the containers and writes the list to Redis.
    func refreshContainers() async throws {
        let summaries = try await docker.listContainers(all: true)
        var ttyByID = known.withLock { $0.tty }
        for summary in summaries where ttyByID[summary.id] == nil {
            ttyByID[summary.id] = (try? await docker.inspect(summary.id).tty) ?? false
        }
        let formatter = ISO8601DateFormatter()
        let containers = summaries.map { summary in
            ContainerInfo(
                id: summary.id,
                name: summary.name,
                image: summary.image,
                state: summary.state,
                status: summary.status,
                createdAt: formatter.string(from: summary.created),
                tty: ttyByID[summary.id] ?? false
            )
        }
        let listed = Set(summaries.map(\.id))
        let json = Array(try JSONEncoder().encode(containers))
        known.withLock { $0 = (containers, json, ttyByID.filter { listed.contains($0.key) }) }
        try await redis.send(RedisCommand("SET", .string(keys.containers(agentID)), .bytes(json)))
    }

    /// Docker sends `die` before its container list says "exited": list once more a
    /// moment after the last event, so the state settles without polling.
    private func scheduleFollowUpRefresh() {
        let followUp = Task { [self] in
            try await Task.sleep(for: .seconds(1))
            try await refreshContainers()
        }
        pendingFollowUp.withLock { pending in
            pending?.cancel()
            pending = followUp
        }
    }

    /// Follows Docker's events and refreshes the list on each; reconnects with backoff when Docker goes away.
    func followDockerEvents() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await docker.withEvents { events in
                    // Refresh after subscribing, so no change falls between the list and the first event.
                    try await refreshContainers()
                    failures = 0
                    for try await event in events {
                        logger.debug("docker event", metadata: ["container": "\(event.containerId)", "action": "\(event.action)"])
                        try await refreshContainers()
                        scheduleFollowUpRefresh()
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                if failures == 0 { logger.warning("Docker events interrupted, reconnecting", metadata: ["error": "\(error)"]) }
            }
            try? await Task.sleep(for: Backoff(maximum: .seconds(10)).delay(attempt: failures))
            failures += 1
        }
    }
}
