/// Where the Docker Engine API listens, parsed from a `DOCKER_HOST`-style value.
public enum DockerEndpoint: Sendable, Hashable, CustomStringConvertible {
    case unixSocket(path: String)
    /// Plain HTTP over TCP (`tcp://` or `http://`); TLS is not supported.
    case tcp(host: String, port: Int)

    /// Docker's conventional port for unencrypted `tcp://` endpoints.
    static let defaultTCPPort = 2375

    /// Parses `unix:///path`, `tcp://host[:port]` or `http://host[:port]`.
    public init(parsing value: String) throws(DockerError) {
        func invalid(_ reason: String) -> DockerError { .invalidEndpoint(value, reason: reason) }
        guard let schemeEnd = value.range(of: "://") else {
            throw invalid("expected unix:///path, tcp://host:port or http://host:port")
        }
        let scheme = value[..<schemeEnd.lowerBound].lowercased()
        let rest = String(value[schemeEnd.upperBound...])
        switch scheme {
        case "unix":
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw invalid("a unix socket needs an absolute path, as in unix:///var/run/docker.sock")
            }
            self = .unixSocket(path: rest)
        case "tcp", "http":
            self = try Self.parseHostPort(rest, defaultPort: scheme == "tcp" ? Self.defaultTCPPort : 80, invalid: invalid)
        case "https":
            throw invalid("TLS endpoints are not supported")
        default:
            throw invalid("unsupported scheme '\(scheme)'")
        }
    }

    private static func parseHostPort(
        _ authority: String,
        defaultPort: Int,
        invalid: (String) -> DockerError
    ) throws(DockerError) -> DockerEndpoint {
        // Tolerate a trailing slash (`tcp://host:2375/`) but nothing that looks like a path.
        let trimmed = authority.hasSuffix("/") ? String(authority.dropLast()) : authority
        guard !trimmed.contains("/"), !trimmed.contains("@"), !trimmed.contains("?") else {
            throw invalid("expected only host and port after the scheme")
        }
        let host: Substring
        let portText: Substring?
        if trimmed.hasPrefix("[") {
            // Bracketed IPv6 literal: [::1]:2375
            guard let close = trimmed.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let afterBracket = trimmed[trimmed.index(after: close)...]
            if afterBracket.isEmpty {
                portText = nil
            } else if afterBracket.hasPrefix(":") {
                portText = afterBracket.dropFirst()
            } else {
                throw invalid("unexpected text after the IPv6 address")
            }
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
        } else {
            host = Substring(trimmed)
            portText = nil
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        var port = defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw invalid("port must be a number from 1 to 65535")
            }
            port = parsed
        }
        return .tcp(host: String(host), port: port)
    }

    public var description: String {
        switch self {
        case .unixSocket(let path): "unix://\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}
