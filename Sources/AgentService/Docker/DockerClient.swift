import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The agent's view of one Docker Engine: version, containers, logs and events over its HTTP API.
///
/// Create it with `connect(to:)`, which negotiates the API version (and so fails fast with
/// `DockerError.unreachable` when the engine is not there), and call `shutdown()` when done.
public final class DockerClient: Sendable {
    public let endpoint: DockerEndpoint
    /// The engine as it introduced itself at connect time.
    public let engineVersion: DockerVersion
    /// The API version every request after `/version` is made with.
    public let apiVersion: DockerAPIVersion

    private let http: DockerHTTP
    private let ownsHTTPClient: Bool

    private init(http: DockerHTTP, engineVersion: DockerVersion, apiVersion: DockerAPIVersion, ownsHTTPClient: Bool) {
        self.endpoint = http.endpoint
        self.http = http
        self.engineVersion = engineVersion
        self.apiVersion = apiVersion
        self.ownsHTTPClient = ownsHTTPClient
    }

    /// Connects to the engine and negotiates the API version.
    /// - Parameter httpClient: a client to share; when nil the Docker client makes its own and shuts it down in `shutdown()`.
    /// - Throws: `DockerError.unreachable` if nothing answers, `DockerError.decoding` if what answers is not Docker.
    public static func connect(
        to endpoint: DockerEndpoint,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "tailgate.docker")
    ) async throws -> DockerClient {
        let client = httpClient ?? HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: makeConfiguration())
        let http = DockerHTTP(endpoint: endpoint, client: client, logger: logger)
        do {
            let version = try await fetchVersion(http)
            guard let engineMaximum = DockerAPIVersion(version.apiVersion) else {
                throw DockerError.decoding("engine reports API version '\(version.apiVersion)'")
            }
            let apiVersion = DockerAPIVersion.negotiate(
                engineMaximum: engineMaximum,
                engineMinimum: version.minAPIVersion.flatMap(DockerAPIVersion.init)
            )
            return DockerClient(http: http, engineVersion: version, apiVersion: apiVersion, ownsHTTPClient: httpClient == nil)
        } catch {
            if httpClient == nil {
                try? await client.shutdown()
            }
            throw error
        }
    }

    /// Shuts down the HTTP client if this Docker client made it. `withEvents` has a connection
    /// of its own, closed when its closure returns; a log's socket is its reader's (`logRequest`).
    public func shutdown() async throws {
        if ownsHTTPClient {
            try await http.client.shutdown()
        }
    }

    /// The engine's version now (`GET /version`, unversioned); also a cheap liveness probe.
    public func version() async throws -> DockerVersion {
        try await Self.fetchVersion(http)
    }

    /// All containers (`all=true`) or only running ones.
    public func listContainers(all: Bool = true) async throws -> [ContainerSummary] {
        try await http.getJSON([ContainerSummary].self, versioned("/containers/json"), query: ["all": all ? "1" : "0"])
    }

    /// - Parameter id: full id, unique id prefix or name.
    /// - Throws: `DockerError.notFound(id)` for an unknown container.
    public func inspect(_ id: String) async throws -> ContainerDetails {
        try await http.getJSON(ContainerDetails.self, versioned("/containers/\(DockerHTTP.percentEncoded(id))/json"), container: id)
    }

    /// The GET of a container's log, for a thread to read on a blocking socket (`DockerLogSocket`).
    /// Docker sends it as it is: for containers without a TTY, stdout/stderr frames each behind an
    /// 8-byte header; with a TTY, the raw stream. With `timestamps`, every line starts with an
    /// RFC 3339 nanosecond time and a space. Closing the socket is how a `follow` is stopped.
    ///
    /// - Parameters:
    ///   - follow: keep streaming new output until the container stops or the socket is closed.
    ///   - since: Docker's `since`: unix seconds, optionally with a fraction (`1712345678.123456789`);
    ///     RFC 3339 is rejected. Inclusive: lines stamped exactly at `since` are sent again.
    ///   - tail: only the last `tail` lines of the existing log (nil: all). Applied before `since`.
    /// Opening it throws `DockerError.notFound(id)` for an unknown container.
    func logRequest(id: String, follow: Bool, since: String? = nil, tail: Int? = nil, timestamps: Bool = true) -> DockerLogRequest {
        let query: KeyValuePairs<String, String> = [
            "follow": follow ? "1" : "0",
            "stdout": "1",
            "stderr": "1",
            "timestamps": timestamps ? "1" : "0",
            "since": since ?? "0",
            "tail": tail.map(String.init) ?? "all",
        ]
        return http.streamingRequest(versioned("/containers/\(DockerHTTP.percentEncoded(id))/logs"), query: query, container: id)
    }

    /// Runs `body` with the lifecycle events of all containers from now on (create, start, die,
    /// stop, destroy, rename). They run until the engine stops or `body` returns.
    public func withEvents<Result>(_ body: (ContainerEventStream) async throws -> Result) async throws -> Result {
        try await http.withStreamingGet(versioned("/events"), query: ["filters": Self.containerEventFilter]) { bytes in
            try await body(ContainerEventStream(bytes: bytes))
        }
    }

    private func versioned(_ path: String) -> String {
        "/v\(apiVersion)\(path)"
    }

    private static func fetchVersion(_ http: DockerHTTP) async throws -> DockerVersion {
        try await http.getJSON(DockerVersion.self, "/version")
    }

    /// `{"type":["container"],"event":[...]}`, so Docker filters rather than us.
    private static let containerEventFilter: String = {
        let actions = ContainerEvent.Action.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        return "{\"type\":[\"container\"],\"event\":[\(actions)]}"
    }()

    private static func makeConfiguration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = DockerHTTP.connectTimeout
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return configuration
    }
}
