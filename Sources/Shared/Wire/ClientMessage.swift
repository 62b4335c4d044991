import Foundation

/// A validated message from a WebSocket client (SPEC §4, client → gateway).
public struct ClientMessage: Sendable, Equatable {
    public enum Request: Sendable, Equatable {
        case subscribe(SubscribeRequest)
        case unsubscribe(UnsubscribeRequest)
    }

    public var id: MessageID?
    public var request: Request
}

public struct SubscribeRequest: Sendable, Equatable {
    public var containerId: ContainerReference
    public var agentId: AgentID?
    /// How many history lines to send; `nil` means all the history holds.
    public var tail: Int?
    /// Resume point: the last `seq` the client has of stream `epoch`.
    public var resume: (sinceSeq: Int, epoch: String)?
    public var batch: Bool

    public static func == (lhs: SubscribeRequest, rhs: SubscribeRequest) -> Bool {
        lhs.containerId == rhs.containerId && lhs.agentId == rhs.agentId && lhs.tail == rhs.tail
            && lhs.resume?.sinceSeq == rhs.resume?.sinceSeq && lhs.resume?.epoch == rhs.resume?.epoch && lhs.batch == rhs.batch
    }
}

public struct UnsubscribeRequest: Sendable, Equatable {
    public var containerId: ContainerReference
    public var agentId: AgentID?

    public init(containerId: ContainerReference, agentId: AgentID?) {
        self.containerId = containerId
        self.agentId = agentId
    }
}

/// A client message that was refused: the `error` frame to answer with,
/// carrying the message's `id` when it could be read.
public struct ClientMessageError: Error, Sendable, Equatable {
    public var id: MessageID?
    public var payload: ErrorPayload
}

/// Turns the bytes of one WebSocket text message into a `ClientMessage`, or
/// says precisely what is wrong with it. Pure: no I/O, no state.
public enum ClientMessageDecoder {
    public static let maximumSize = 64 * 1024

    public static func decode(_ bytes: [UInt8]) -> Result<ClientMessage, ClientMessageError> {
        guard bytes.count <= maximumSize else {
            return .failure(ClientMessageError(id: nil, payload: ErrorPayload(code: .tooLarge, message: "message of \(bytes.count) bytes exceeds the limit of \(maximumSize) bytes")))
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            return .failure(ClientMessageError(id: nil, payload: ErrorPayload(code: .badJSON, message: "message is not valid JSON")))
        }
        guard case .object(let object) = value else {
            return .failure(ClientMessageError(id: nil, payload: ErrorPayload(code: .badRequest, message: "message must be a JSON object")))
        }
        var id: MessageID?
        do {
            id = try messageID(object["id"])
            return .success(ClientMessage(id: id, request: try request(object)))
        } catch let error as ErrorPayload {
            return .failure(ClientMessageError(id: id, payload: error))
        } catch {
            return .failure(ClientMessageError(id: id, payload: ErrorPayload(code: .badRequest, message: "\(error)")))
        }
    }

    private static func messageID(_ value: JSONValue?) throws -> MessageID? {
        switch value {
        case nil, .null?: return nil
        case .string(let string)?: return .string(string)
        case .number(let number)?: return .number(number)
        default: throw badRequest("'id' must be a string or a number")
        }
    }

    private static func request(_ object: [String: JSONValue]) throws -> ClientMessage.Request {
        guard case .string(let type)? = object["type"] else { throw badRequest("'type' must be a string") }
        guard let frameType = FrameType(rawValue: type), frameType == .subscribe || frameType == .unsubscribe else {
            throw ErrorPayload(code: .unknownType, message: "unknown message type '\(type.prefix(64))'; expected log.subscribe or log.unsubscribe")
        }
        guard case .object(let data)? = object["data"] else { throw badRequest("'data' must be an object") }
        let fields = Fields(data)
        let containerId = try fields.containerReference()
        let agentId = try fields.agentID()
        guard frameType == .subscribe else {
            return .unsubscribe(UnsubscribeRequest(containerId: containerId, agentId: agentId))
        }
        let sinceSeq = try fields.nonNegativeInteger("sinceSeq")
        let epoch = try fields.epoch()
        guard (sinceSeq == nil) == (epoch == nil) else { throw badRequest("'sinceSeq' and 'epoch' go together") }
        return .subscribe(
            SubscribeRequest(
                containerId: containerId,
                agentId: agentId,
                tail: try fields.nonNegativeInteger("tail"),
                resume: sinceSeq.flatMap { seq in epoch.map { (seq, $0) } },
                batch: try fields.bool("batch") ?? false
            )
        )
    }

    private struct Fields {
        let data: [String: JSONValue]
        init(_ data: [String: JSONValue]) { self.data = data }

        func containerReference() throws -> ContainerReference {
            guard case .string(let string)? = data["containerId"] else { throw badRequest("'containerId' must be a string") }
            do { return try ContainerReference(string) } catch { throw badRequest(error.description) }
        }

        func agentID() throws -> AgentID? {
            switch data["agentId"] {
            case nil, .null?: return nil
            case .string(let string)?:
                do { return try AgentID(string) } catch { throw badRequest(error.description) }
            default: throw badRequest("'agentId' must be a string")
            }
        }

        func nonNegativeInteger(_ name: String) throws -> Int? {
            switch data[name] {
            case nil, .null?: return nil
            case .number(let number)? where number >= 0 && number == number.rounded() && number < 1e15: return Int(number)
            default: throw badRequest("'\(name)' must be a non-negative integer")
            }
        }

        func epoch() throws -> String? {
            switch data["epoch"] {
            case nil, .null?: return nil
            case .string(let string)? where (1...64).contains(string.utf8.count) && string.utf8.allSatisfy(\.isASCIIAlphanumeric):
                return string
            default: throw badRequest("'epoch' must be the epoch string of a previous log.subscribed")
            }
        }

        func bool(_ name: String) throws -> Bool? {
            switch data[name] {
            case nil, .null?: return nil
            case .bool(let value)?: return value
            default: throw badRequest("'\(name)' must be true or false")
            }
        }
    }

    private static func badRequest(_ message: String) -> ErrorPayload {
        ErrorPayload(code: .badRequest, message: message)
    }
}

/// Any JSON value, for validating client input field by field.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
