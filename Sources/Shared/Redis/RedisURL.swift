import Foundation

/// Where and how to reach Redis: `redis://[user:password@]host:port[/db]` or `unix:///path.sock`.
///
/// A unix URL may carry credentials and a database in its query:
/// `unix:///run/redis.sock?db=2&user=u&password=p`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    public var database: Int

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    public init(_ string: String) throws(RedisError) {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL("'\(string)' is not a URL; expected redis://host:port or unix:///path.sock")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        switch scheme {
        case "redis":
            guard let host = components.host, !host.isEmpty else {
                throw .invalidURL("'\(string)' has no host")
            }
            let port = components.port ?? 6379
            guard (1...65535).contains(port) else { throw .invalidURL("'\(string)' has port \(port) out of range") }
            self.endpoint = .tcp(host: host, port: port)
            self.username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
            self.password = components.password?.removingPercentEncoding
            let path = components.path.drop(while: { $0 == "/" })
            if path.isEmpty {
                self.database = 0
            } else if let database = Int(path), database >= 0 {
                self.database = database
            } else {
                throw .invalidURL("'\(string)' has database '\(path)'; expected a number such as /0")
            }
        case "unix":
            guard !components.path.isEmpty, components.path.hasPrefix("/") else {
                throw .invalidURL("'\(string)' has no socket path; expected unix:///path/to/redis.sock")
            }
            self.endpoint = .unix(path: components.path)
            self.username = query["user"]
            self.password = query["password"]
            guard let database = Int(query["db"] ?? "0"), database >= 0 else {
                throw .invalidURL("'\(string)' has db '\(query["db"] ?? "")'; expected a number")
            }
            self.database = database
        default:
            throw .invalidURL("'\(string)' has scheme '\(scheme)'; expected redis:// or unix://")
        }
    }

    /// The URL without its password, for logs and health output.
    public var description: String {
        let credentials = username.map { "\($0)@" } ?? (password == nil ? "" : ":***@")
        switch endpoint {
        case .tcp(let host, let port):
            return "redis://\(credentials)\(host):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }
}
