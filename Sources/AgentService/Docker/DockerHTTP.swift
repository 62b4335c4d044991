import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends GET requests to one engine and turns transport failures and error statuses into `DockerError`.
struct DockerHTTP: Sendable {
    let endpoint: DockerEndpoint
    let client: HTTPClient
    let logger: Logger

    /// Bounds the wait for a response head only; AHC does not apply it to the body,
    /// so `follow` and `/events` bodies may stream for as long as the caller reads.
    static let responseHeadTimeout: TimeAmount = .seconds(30)
    /// Fail fast when the engine is down: the agent reports it (exit 2 at start) or backs off itself.
    static let connectTimeout: TimeAmount = .seconds(5)
    static let userAgent = "tailgate-agent"
    /// Limit for JSON bodies read whole (version, container list, inspect).
    static let maximumCollectedBodySize = 64 << 20

    /// Sends `GET path?query` through AsyncHTTPClient's pool and returns once the head has arrived with a 2xx status.
    /// - Parameter container: names the container the path is about, so a 404 becomes `.notFound(container)`.
    func get(_ path: String, query: KeyValuePairs<String, String> = [:], container: String? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: try url(path: path, query: query))
        if case .unixSocket = endpoint {
            // AHC sends no Host header over a unix socket and Docker rejects requests without one.
            request.headers.replaceOrAdd(name: "Host", value: "localhost")
        }
        request.headers.replaceOrAdd(name: "User-Agent", value: Self.userAgent)

        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: Self.responseHeadTimeout, logger: logger)
        } catch {
            throw mapTransportError(error)
        }
        guard (200..<300).contains(response.status.code) else {
            throw await errorForStatus(of: response, container: container)
        }
        return response
    }

    func getJSON<Value: Decodable>(
        _ type: Value.Type,
        _ path: String,
        query: KeyValuePairs<String, String> = [:],
        container: String? = nil
    ) async throws -> Value {
        let response = try await get(path, query: query, container: container)
        let body = try await collect(response.body, upTo: Self.maximumCollectedBodySize)
        do {
            return try JSONDecoder().decode(Value.self, from: Data(body.readableBytesView))
        } catch {
            throw DockerError.decoding("\(path): \(error)")
        }
    }

    func collect(_ body: HTTPClientResponse.Body, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw DockerError.decoding("answer larger than \(limit) bytes")
        } catch {
            throw mapTransportError(error)
        }
    }

    /// Cancellation stays `CancellationError`; any other failure to talk to the engine is `.unreachable`.
    func mapTransportError(_ error: any Error) -> any Error {
        if error is CancellationError || error is DockerError {
            return error
        }
        if let error = error as? HTTPClientError, error == .cancelled {
            return CancellationError()
        }
        return DockerError.unreachable(endpoint: endpoint, underlying: error)
    }

    private func errorForStatus(of response: HTTPClientResponse, container: String?) async -> any Error {
        let body = try? await response.body.collect(upTo: Self.maximumErrorBodySize)
        return Self.error(status: response.status, body: body, container: container)
    }

    /// Docker explains a refusal as `{"message": "..."}`; falls back to the raw text, then to the reason phrase.
    static func error(status: HTTPResponseStatus, body: ByteBuffer?, container: String?) -> DockerError {
        if status.code == 404, let container {
            return DockerError.notFound(container)
        }
        struct Explanation: Decodable { let message: String }
        guard let body else {
            return DockerError.http(status: Int(status.code), message: status.reasonPhrase)
        }
        let data = Data(body.readableBytesView)
        let message = (try? JSONDecoder().decode(Explanation.self, from: data))?.message
            ?? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return DockerError.http(status: Int(status.code), message: message.isEmpty ? status.reasonPhrase : message)
    }

    /// How much of an error response is read for its message.
    static let maximumErrorBodySize = 64 << 10

    /// `path?query`, percent-encoded.
    func requestURI(path: String, query: KeyValuePairs<String, String>) -> String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\(Self.percentEncoded($0.key))=\(Self.percentEncoded($0.value))" }.joined(separator: "&")
    }

    private func url(path: String, query: KeyValuePairs<String, String>) throws(DockerError) -> String {
        let uri = requestURI(path: path, query: query)
        switch endpoint {
        case .unixSocket(let socketPath):
            guard let url = URL(httpURLWithSocketPath: socketPath, uri: uri) else {
                throw .invalidEndpoint(endpoint.description, reason: "cannot form a URL for this socket path")
            }
            return url.absoluteString
        case .tcp(let host, let port):
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return "http://\(authority)\(uri)"
        }
    }

    /// Encodes everything but RFC 3986 unreserved characters, for path segments and query values alike.
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? text
    }

    private static let unreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
}
