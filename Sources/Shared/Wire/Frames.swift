import Foundation

/// The `type` of every frame in the WebSocket protocol (SPEC §4).
public enum FrameType: String, Sendable, Codable {
    // Client → gateway
    case subscribe = "log.subscribe"
    case unsubscribe = "log.unsubscribe"
    // Gateway → client
    case subscribed = "log.subscribed"
    case history = "log.history"
    case line = "log.line"
    case lines = "log.lines"
    case gap = "log.gap"
    case streamEnded = "log.stream.ended"
    case streamError = "log.stream.error"
    case unsubscribed = "log.unsubscribed"
    case error = "error"
}

/// The optional `id` of a client message, echoed on its reply: a string or a number.
public enum MessageID: Sendable, Hashable, Codable {
    case string(String)
    case number(Double)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let string): try container.encode(string)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { try container.encode(Int64(number)) } else { try container.encode(number) }
        }
    }
}

/// `{"type": …, "id"?: …, "data": …}`: the envelope of every frame.
public struct Frame<Payload: Codable & Sendable>: Codable, Sendable {
    public var type: FrameType
    public var id: MessageID?
    public var data: Payload

    public init(type: FrameType, id: MessageID? = nil, data: Payload) {
        self.type = type
        self.id = id
        self.data = data
    }

    /// The frame as JSON text bytes (control frames; `log.line` uses `LogLineFrame`).
    public func encoded() -> [UInt8] {
        // Encoding these plain structs cannot fail.
        (try? Array(frameEncoder.encode(self))) ?? []
    }
}

private let frameEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

public struct SubscribedPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var name: String
    public var epoch: String

    public init(agentId: String, containerId: String, name: String, epoch: String) {
        self.agentId = agentId
        self.containerId = containerId
        self.name = name
        self.epoch = epoch
    }
}

public struct HistoryPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var epoch: String
    public var lines: [LogLine]
    public var complete: Bool
}

public struct LinesPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var lines: [LogLine]
}

public struct GapPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var fromSeq: Int
    public var toSeq: Int

    public init(agentId: String, containerId: String, fromSeq: Int, toSeq: Int) {
        self.agentId = agentId
        self.containerId = containerId
        self.fromSeq = fromSeq
        self.toSeq = toSeq
    }
}

public struct StreamEndedPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var reason: String

    public init(agentId: String, containerId: String, reason: String) {
        self.agentId = agentId
        self.containerId = containerId
        self.reason = reason
    }
}

public enum StreamErrorCode: String, Codable, Sendable {
    case notFound = "not_found"
    case agentOffline = "agent_offline"
    case dockerUnavailable = "docker_unavailable"
    case `internal` = "internal"
}

public struct StreamErrorPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String
    public var code: StreamErrorCode
    public var message: String

    public init(agentId: String, containerId: String, code: StreamErrorCode, message: String) {
        self.agentId = agentId
        self.containerId = containerId
        self.code = code
        self.message = message
    }
}

/// The stream a `log.subscribed`/`log.unsubscribed` frame is about.
public struct StreamPayload: Codable, Sendable, Equatable {
    public var agentId: String
    public var containerId: String

    public init(agentId: String, containerId: String) {
        self.agentId = agentId
        self.containerId = containerId
    }
}

public enum ProtocolErrorCode: String, Codable, Sendable {
    case badJSON = "bad_json"
    case badRequest = "bad_request"
    case unknownType = "unknown_type"
    case tooLarge = "too_large"
    case tooManySubscriptions = "too_many_subscriptions"
}

public struct ErrorPayload: Codable, Sendable, Equatable, Error {
    public var code: ProtocolErrorCode
    public var message: String

    public init(code: ProtocolErrorCode, message: String) {
        self.code = code
        self.message = message
    }
}

/// What gateways tell an agent on `tailgate:control:{agentId}`.
public struct ControlMessage: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case start = "log.stream.start"
        case stop = "log.stream.stop"
    }

    public struct Payload: Codable, Sendable, Equatable {
        public var containerId: ContainerID
    }

    public var type: Kind
    public var data: Payload

    public init(_ type: Kind, containerId: ContainerID) {
        self.type = type
        self.data = Payload(containerId: containerId)
    }
}

/// One container of `tailgate:containers:{agentId}` (SPEC §2).
public struct ContainerInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var image: String
    public var state: String
    public var status: String
    /// RFC 3339.
    public var createdAt: String
    public var tty: Bool

    public init(id: String, name: String, image: String, state: String, status: String, createdAt: String, tty: Bool) {
        self.id = id
        self.name = name
        self.image = image
        self.state = state
        self.status = status
        self.createdAt = createdAt
        self.tty = tty
    }
}
