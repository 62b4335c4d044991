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

    /// Shuts down the HTTP client if this Docker client made it; open streams end with an error.
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

    /// The container's log as Docker sends it: for containers without a TTY, stdout/stderr frames
    /// each behind an 8-byte header; with a TTY, the raw stream. With `timestamps`, every line
    /// starts with an RFC 3339 nanosecond time and a space.
    ///
    /// - Parameters:
    ///   - follow: keep streaming new output until the container stops or the caller stops iterating.
    ///   - since: Docker's `since`: unix seconds, optionally with a fraction (`1712345678.123456789`);
    ///     RFC 3339 is rejected. Inclusive: lines stamped exactly at `since` are sent again.
    ///   - tail: only the last `tail` lines of the existing log (nil: all). Applied before `since`.
    /// - Throws: `DockerError.notFound(id)` for an unknown container, before any bytes are returned.
    public func logs(
        id: String,
        follow: Bool,
        since: String? = nil,
        tail: Int? = nil,
        timestamps: Bool = true
    ) async throws -> DockerByteStream {
        let query: KeyValuePairs<String, String> = [
            "follow": follow ? "1" : "0",
            "stdout": "1",
            "stderr": "1",
            "timestamps": timestamps ? "1" : "0",
            "since": since ?? "0",
            "tail": tail.map(String.init) ?? "all",
        ]
        let response = try await http.get(versioned("/containers/\(DockerHTTP.percentEncoded(id))/logs"), query: query, container: id)
        return DockerByteStream(body: response.body, http: http)
    }

    /// Lifecycle events of all containers from now on (create, start, die, stop, destroy, rename).
    /// The stream runs until the engine stops or the caller stops iterating.
    public func events() async throws -> ContainerEventStream {
        let response = try await http.get(versioned("/events"), query: ["filters": Self.containerEventFilter])
        return ContainerEventStream(bytes: DockerByteStream(body: response.body, http: http))
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
        configuration.timeout.connect = .seconds(5)
        // Fail at once when the engine is down: the agent reports it (exit 2 at start) or backs off itself.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Every followed log holds a connection for as long as it runs; the default of 8 would
        // make the ninth stream, and every list or inspect after it, wait forever.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.decompression = .disabled
        return configuration
    }
}
