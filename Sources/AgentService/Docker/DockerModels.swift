import Foundation

/// The engine's identity, from `GET /version`.
public struct DockerVersion: Sendable, Hashable, Decodable {
    /// Engine release, e.g. `27.3.1`: what the agent publishes as `dockerVersion`.
    public let version: String
    public let apiVersion: String
    /// Absent on engines older than API 1.25.
    public let minAPIVersion: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case apiVersion = "ApiVersion"
        case minAPIVersion = "MinAPIVersion"
    }
}

/// One entry of `GET /containers/json`.
public struct ContainerSummary: Sendable, Hashable, Decodable {
    /// Full 64-hex id.
    public let id: String
    /// Name without Docker's leading `/`.
    public let name: String
    public let image: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public let state: String
    /// Human text such as `Up 5 minutes` or `Exited (0) 2 hours ago`.
    public let status: String
    public let created: Date

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", status = "Status", created = "Created"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = Self.primaryName(of: try container.decodeIfPresent([String].self, forKey: .names) ?? [])
        image = try container.decode(String.self, forKey: .image)
        state = try container.decode(String.self, forKey: .state)
        status = try container.decode(String.self, forKey: .status)
        created = Date(timeIntervalSince1970: TimeInterval(try container.decode(Int64.self, forKey: .created)))
    }

    /// Legacy links add names like `/web/db`; the container's own name is the one without a second slash.
    static func primaryName(of names: [String]) -> String {
        let stripped = names.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        return stripped.first { !$0.contains("/") } ?? stripped.first ?? ""
    }
}

/// The parts of `GET /containers/{id}/json` the agent needs.
public struct ContainerDetails: Sendable, Hashable, Decodable {
    public let id: String
    /// Name without Docker's leading `/`.
    public let name: String
    /// The image as the user named it (`Config.Image`), not its sha256 id.
    public let image: String
    /// With a TTY Docker sends one raw stream instead of multiplexed stdout/stderr frames.
    public let tty: Bool
    public let running: Bool
    /// `State.Status`: `created`, `running`, `exited`, ...
    public let state: String
    /// RFC 3339 with nanoseconds as Docker reports it; nil if the container never started.
    public let startedAt: String?

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", config = "Config", state = "State"
    }
    enum ConfigKeys: String, CodingKey {
        case image = "Image", tty = "Tty"
    }
    enum StateKeys: String, CodingKey {
        case running = "Running", status = "Status", startedAt = "StartedAt"
    }

    /// Docker's zero time, reported for containers that were created but never started.
    static let neverStarted = "0001-01-01T00:00:00Z"

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let rawName = try container.decode(String.self, forKey: .name)
        name = rawName.hasPrefix("/") ? String(rawName.dropFirst()) : rawName
        let config = try container.nestedContainer(keyedBy: ConfigKeys.self, forKey: .config)
        image = try config.decode(String.self, forKey: .image)
        tty = try config.decodeIfPresent(Bool.self, forKey: .tty) ?? false
        let state = try container.nestedContainer(keyedBy: StateKeys.self, forKey: .state)
        running = try state.decode(Bool.self, forKey: .running)
        self.state = try state.decode(String.self, forKey: .status)
        let started = try state.decodeIfPresent(String.self, forKey: .startedAt)
        startedAt = started == Self.neverStarted || started?.isEmpty == true ? nil : started
    }
}

/// A container lifecycle event from `GET /events`.
public struct ContainerEvent: Sendable, Hashable {
    /// The actions the agent reacts to; the events request asks Docker for exactly these.
    public enum Action: String, Sendable, CaseIterable {
        case create, start, die, stop, destroy, rename
    }

    public let containerId: String
    public let action: Action
    /// The container's name after the event (for `rename`, the new name), without a leading `/`.
    public let name: String?
    /// Only set for `rename`: the previous name, without a leading `/`.
    public let oldName: String?
}

extension ContainerEvent {
    private struct Wire: Decodable {
        struct Actor: Decodable {
            let id: String
            let attributes: [String: String]?
            enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
        }
        let type: String?
        let action: String
        let actor: Actor
        enum CodingKeys: String, CodingKey { case type = "Type", action = "Action", actor = "Actor" }
    }

    /// Decodes one NDJSON line; nil for events the agent does not react to.
    static func decode(line: some Collection<UInt8>) throws(DockerError) -> ContainerEvent? {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(line))
        } catch {
            throw .decoding("event: \(error)")
        }
        guard wire.type == nil || wire.type == "container", let action = Action(rawValue: wire.action) else {
            return nil
        }
        func strip(_ name: String?) -> String? {
            guard let name else { return nil }
            return name.hasPrefix("/") ? String(name.dropFirst()) : name
        }
        return ContainerEvent(
            containerId: wire.actor.id,
            action: action,
            name: strip(wire.actor.attributes?["name"]),
            oldName: strip(wire.actor.attributes?["oldName"])
        )
    }
}
