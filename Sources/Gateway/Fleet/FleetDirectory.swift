import Foundation
import NIOCore
import Shared

/// What the agents published about themselves in Redis (SPEC §2), read on demand.
struct FleetDirectory: Sendable {
    let redis: RedisClient
    let keys: RedisKeys

    /// One entry of `GET /api/agents`.
    struct AgentSummary: Encodable, Sendable {
        var id: String
        var hostname: String
        var online: Bool
        /// ISO 8601: the last heartbeat, i.e. the heartbeat deadline minus its lease.
        var lastSeen: String
        var containers: Int
        var activeStreams: Int
    }

    /// An agent's containers, and whether its heartbeat is current.
    struct AgentContainers: Sendable {
        var containers: [ContainerInfo]
        var isOnline: Bool
    }

    func agents() async throws -> [AgentSummary] {
        let entries = try await redis.send(RedisCommand("ZRANGE", .string(keys.agents), 0, -1, "WITHSCORES")).array()
        var deadlines: [(AgentID, Int64)] = []
        for pair in stride(from: 0, to: entries.count - 1, by: 2) {
            // Ids are checked before they name a key; a malformed entry is skipped, not trusted.
            guard let text = try entries[pair].string(), let id = try? AgentID(text),
                let deadline = try entries[pair + 1].string().flatMap(Double.init)
            else { continue }
            deadlines.append((id, Int64(deadline)))
        }
        guard !deadlines.isEmpty else { return [] }
        let replies = try await redis.pipeline(
            deadlines.flatMap { id, _ in
                [
                    RedisCommand("HMGET", .string(keys.agent(id)), "hostname", "streams"),
                    RedisCommand("GET", .string(keys.containers(id))),
                ]
            }
        )
        let now = Leases.milliseconds()
        let lease = Int64(Leases.heartbeatLease.seconds * 1000)
        return deadlines.enumerated().map { index, entry in
            let (id, deadline) = entry
            let fields = (try? replies[2 * index].array()) ?? []
            let hostname = fields.first.flatMap { try? $0.string() } ?? ""
            let streams = fields.dropFirst().first.flatMap { try? $0.string() }
            return AgentSummary(
                id: id.rawValue,
                hostname: hostname,
                online: deadline > now,
                lastSeen: Date(timeIntervalSince1970: Double(deadline - lease) / 1000).formatted(.iso8601),
                containers: Self.arrayCount(try? replies[2 * index + 1].string()),
                activeStreams: Self.arrayCount(streams)
            )
        }
        .sorted { $0.id < $1.id }
    }

    /// The agent's container list as the agent wrote it, or nil for an agent Redis does not know.
    func containerListJSON(of agent: AgentID) async throws -> ByteBuffer? {
        let record = try await containerRecord(of: agent)
        return record.json ?? (record.heartbeatDeadline == nil ? nil : ByteBuffer(string: "[]"))
    }

    /// The agent's containers for resolving a reference, or nil for an agent Redis does not know.
    func containers(of agent: AgentID) async throws -> AgentContainers? {
        let record = try await containerRecord(of: agent)
        guard record.json != nil || record.heartbeatDeadline != nil else { return nil }
        let containers = record.json.flatMap { try? JSONDecoder().decode([ContainerInfo].self, from: Data($0.readableBytesView)) } ?? []
        return AgentContainers(containers: containers, isOnline: record.heartbeatDeadline.map { Int64($0) > Leases.milliseconds() } ?? false)
    }

    private func containerRecord(of agent: AgentID) async throws -> (json: ByteBuffer?, heartbeatDeadline: Double?) {
        let replies = try await redis.pipeline([
            RedisCommand("GET", .string(keys.containers(agent))),
            RedisCommand("ZSCORE", .string(keys.agents), .string(agent.rawValue)),
        ])
        let json: ByteBuffer? = if case .bulkString(let buffer) = replies[0] { buffer } else { nil }
        return (json, try replies[1].string().flatMap(Double.init))
    }

    /// The length of a JSON array, 0 for anything else.
    private static func arrayCount(_ json: String?) -> Int {
        guard let json, let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any] else { return 0 }
        return array.count
    }
}
