import Foundation
import Shared

/// Who may use the API and the WebSockets (SPEC §3): a token from the
/// `Authorization` header, the `tailgate_token` cookie or the `token` query
/// parameter; for browsers, an `Origin` of the gateway's own host or one
/// configured with `--allowed-origin`.
///
/// Pure and synchronous, so the WebSocket upgrade guard (on the event loop)
/// and the HTTP middleware take the very same decision.
struct AccessPolicy: Sendable {
    static let cookieName = "tailgate_token"

    enum Decision: Equatable {
        case allowed
        case unauthorized
        case foreignOrigin
    }

    /// The request parts a decision is taken on, as they arrive.
    struct Credentials {
        var authorization: String?
        var cookieHeaders: [String] = []
        var query: String?
        var origin: String?
        var host: String?
    }

    private let tokens: [[UInt8]]
    let allowsAnonymous: Bool
    private let allowedOrigins: Set<String>

    init(tokens: [String], allowsAnonymous: Bool, allowedOrigins: [String] = []) throws(ConfigurationError) {
        guard allowsAnonymous || !tokens.isEmpty else {
            throw ConfigurationError("no access token: give --token (or TAILGATE_TOKEN), or --no-auth to serve without one")
        }
        // Tokens travel in a cookie, so they must be cookie-safe (RFC 6265 cookie-octet).
        for token in tokens where !token.utf8.allSatisfy(Self.isCookieOctet) {
            throw ConfigurationError("--token: tokens may only contain printable ASCII other than space, '\"', ',', ';' and '\\'")
        }
        var origins: Set<String> = []
        for origin in allowedOrigins {
            guard let normalized = Self.normalizedOrigin(origin) else {
                throw ConfigurationError("--allowed-origin: '\(origin)' is not an origin like https://logs.example.com")
            }
            origins.insert(normalized)
        }
        self.tokens = tokens.map { Array($0.utf8) }
        self.allowsAnonymous = allowsAnonymous
        self.allowedOrigins = origins
    }

    func decide(_ credentials: Credentials) -> Decision {
        guard isOriginAllowed(credentials.origin, host: credentials.host) else { return .foreignOrigin }
        guard allowsAnonymous || presentedToken(credentials).map(isValid) == true else { return .unauthorized }
        return .allowed
    }

    /// Whether `candidate` is one of the tokens, in time that does not depend on where it differs.
    func isValid(_ candidate: String) -> Bool {
        let candidate = Array(candidate.utf8)
        var matches = false
        for token in tokens {
            var difference = token.count ^ candidate.count
            for index in 0..<token.count {
                difference |= Int(token[index] ^ (index < candidate.count ? candidate[index] : 0))
            }
            matches = matches || difference == 0
        }
        return matches
    }

    /// Browsers always send `Origin` on WebSocket upgrades, the origin of the
    /// page: http or https. Other clients need not send one, and some send
    /// the `ws://host` they connect to (swift-websocket's client does), which
    /// no web page can claim: both are not cross-site requests.
    func isOriginAllowed(_ origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        guard let normalized = Self.normalizedOrigin(origin) else { return false }
        if normalized.hasPrefix("ws://") || normalized.hasPrefix("wss://") { return true }
        if allowedOrigins.contains(normalized) { return true }
        guard let host, let authority = normalized.split(separator: "/").last else { return false }
        return Self.withoutDefaultPort(String(authority)) == Self.withoutDefaultPort(host.lowercased())
    }

    private func presentedToken(_ credentials: Credentials) -> String? {
        if let authorization = credentials.authorization, authorization.lowercased().hasPrefix("bearer ") {
            return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        for header in credentials.cookieHeaders {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == Self.cookieName {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        for pair in (credentials.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == "token" {
                return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
        }
        return nil
    }

    /// `scheme://host[:port]` in lower case without a default port, or nil if it is not an origin.
    private static func normalizedOrigin(_ origin: String) -> String? {
        guard let components = URLComponents(string: origin.lowercased()), let scheme = components.scheme,
            let host = components.host, !host.isEmpty, components.path.isEmpty || components.path == "/",
            components.query == nil
        else { return nil }
        let authority = components.port.map { "\(host):\($0)" } ?? host
        return "\(scheme)://\(withoutDefaultPort(authority))"
    }

    private static func withoutDefaultPort(_ authority: String) -> String {
        for suffix in [":80", ":443"] where authority.hasSuffix(suffix) {
            return String(authority.dropLast(suffix.count))
        }
        return authority
    }

    private static func isCookieOctet(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte) || (0x3C...0x5B).contains(byte)
            || (0x5D...0x7E).contains(byte)
    }
}
