/// Why an id from a client, a flag or Redis was refused.
public struct IdentifierError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// An id that is checked when made, from code or from JSON, and encodes as its plain string.
public protocol ValidatedIdentifier: Hashable, Sendable, Codable, CustomStringConvertible {
    var rawValue: String { get }
    init(_ string: String) throws(IdentifierError)
}

extension ValidatedIdentifier {
    public init(from decoder: any Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(string) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

/// An agent's id: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}` (SPEC §1).
///
/// Checked before it is used in a Redis key, so a hostile id (`*`, `:`, `{`,
/// newlines, huge strings) can never widen a key pattern or break a hash tag.
public struct AgentID: ValidatedIdentifier, Comparable {
    public let rawValue: String

    public init(_ string: String) throws(IdentifierError) {
        let bytes = Array(string.utf8)
        guard (1...64).contains(bytes.count), bytes[0].isASCIIAlphanumeric,
            bytes.allSatisfy(\.isIdentifierCharacter)
        else {
            throw IdentifierError(description: "invalid agent id \(quoted(string)): expected 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit")
        }
        rawValue = string
    }

    public static func < (lhs: AgentID, rhs: AgentID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A container's full id: 64 lowercase hex characters, as Docker gives it.
public struct ContainerID: ValidatedIdentifier {
    public let rawValue: String

    public init(_ string: String) throws(IdentifierError) {
        guard string.utf8.count == 64, string.utf8.allSatisfy(\.isLowercaseHexDigit) else {
            throw IdentifierError(description: "invalid container id \(quoted(string)): expected 64 hex characters")
        }
        rawValue = string
    }

}

/// How a client names a container: full id, unique id prefix (at least 4 hex
/// characters) or name. Resolved against the agent's container list.
public struct ContainerReference: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ string: String) throws(IdentifierError) {
        // Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is Docker's own and dropped).
        let name = string.hasPrefix("/") ? String(string.dropFirst()) : string
        let bytes = Array(name.utf8)
        guard (1...128).contains(bytes.count), bytes[0].isASCIIAlphanumeric,
            bytes.allSatisfy(\.isIdentifierCharacter)
        else {
            throw IdentifierError(description: "invalid container \(quoted(string)): expected a container id, an id prefix of at least 4 hex characters, or a name")
        }
        rawValue = name
    }

    /// Whether this reference can be an id prefix (names can look like one too).
    public var canBeIDPrefix: Bool {
        rawValue.utf8.count >= 4 && rawValue.utf8.count <= 64 && rawValue.utf8.allSatisfy(\.isLowercaseHexDigit)
    }

    /// Finds the one container this reference names: exact id, exact name, then unique id prefix.
    public func resolve<C: Collection>(in containers: C, id: (C.Element) -> String, name: (C.Element) -> String) -> ContainerResolution<C.Element> {
        if let exact = containers.first(where: { id($0) == rawValue || name($0) == rawValue }) {
            return .found(exact)
        }
        guard canBeIDPrefix else { return .notFound }
        let matches = containers.filter { id($0).hasPrefix(rawValue) }
        switch matches.count {
        case 0: return .notFound
        case 1: return .found(matches[0])
        default: return .ambiguous(matches.count)
        }
    }

    public var description: String { rawValue }
}

public enum ContainerResolution<Element> {
    case found(Element)
    case notFound
    case ambiguous(Int)
}

/// Quotes a rejected value for an error message, cut short and with control characters escaped.
private func quoted(_ string: String) -> String {
    let shown = string.count > 40 ? String(string.prefix(40)) + "…(\(string.utf8.count) bytes)" : string
    return "'" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "'"
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }

    /// A-Z a-z 0-9 . _ -: what agent ids, container names and the key prefix are made of.
    var isIdentifierCharacter: Bool {
        isASCIIAlphanumeric || self == UInt8(ascii: ".") || self == UInt8(ascii: "_") || self == UInt8(ascii: "-")
    }

    var isLowercaseHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
    }
}
