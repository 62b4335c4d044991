import Foundation

/// Every Redis key and channel name Tailgate uses (SPEC §2), in one place.
///
/// A stream's keys share the hash tag `{agentId:containerId}` so that in a
/// Redis Cluster they live in one slot and one transaction may touch them all.
public struct RedisKeys: Sendable, Equatable {
    public let prefix: String

    public init(prefix: String = "tailgate") {
        self.prefix = prefix
    }

    public func logs(_ agent: AgentID, _ container: ContainerID) -> String { "\(prefix):logs:\(tag(agent, container))" }
    public func history(_ agent: AgentID, _ container: ContainerID) -> String { "\(prefix):history:\(tag(agent, container))" }
    public func meta(_ agent: AgentID, _ container: ContainerID) -> String { "\(prefix):meta:\(tag(agent, container))" }
    public func refs(_ agent: AgentID, _ container: ContainerID) -> String { "\(prefix):refs:\(tag(agent, container))" }
    public func control(_ agent: AgentID) -> String { "\(prefix):control:\(agent)" }
    public var agents: String { "\(prefix):agents" }
    public func agent(_ agent: AgentID) -> String { "\(prefix):agent:\(agent)" }
    public func containers(_ agent: AgentID) -> String { "\(prefix):containers:\(agent)" }

    /// The agent and container of a `logs` channel name, or `nil` for any other name.
    public func stream(ofLogsChannel channel: String) -> (AgentID, ContainerID)? {
        let head = "\(prefix):logs:{"
        guard channel.hasPrefix(head), channel.hasSuffix("}") else { return nil }
        let inner = channel.dropFirst(head.count).dropLast()
        guard let colon = inner.lastIndex(of: ":"),
            let agent = try? AgentID(String(inner[..<colon])),
            let container = try? ContainerID(String(inner[inner.index(after: colon)...]))
        else { return nil }
        return (agent, container)
    }

    private func tag(_ agent: AgentID, _ container: ContainerID) -> String { "{\(agent):\(container)}" }
}

/// Timing of the crash-safe reference counts and heartbeats (SPEC §2).
///
/// `refs:S` is a sorted set: member = gateway instance, score = lease deadline
/// (ms since the epoch). A gateway renews its leases every `renewInterval`; a
/// gateway that dies stops counting when its lease runs out, and the agent,
/// reconciling every `reconcileInterval`, stops the stream soon after.
public enum Leases {
    public static let referenceLease: Duration = .seconds(10)
    public static let renewInterval: Duration = .seconds(3)
    public static let reconcileInterval: Duration = .seconds(3)
    /// Agents write `now + heartbeatLease` into `tailgate:agents` every `heartbeatInterval`.
    public static let heartbeatLease: Duration = .seconds(10)
    public static let heartbeatInterval: Duration = .seconds(3)

    /// Milliseconds since the Unix epoch, the unit of lease deadlines.
    public static func milliseconds(since date: Date = Date(), plus duration: Duration = .zero) -> Int64 {
        Int64((date.timeIntervalSince1970 + duration.seconds) * 1000)
    }
}
