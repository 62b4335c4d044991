import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the Docker client reports. Callers also see `CancellationError` when their task is cancelled.
public enum DockerError: Error, CustomStringConvertible {
    /// The `DOCKER_HOST` value could not be parsed.
    case invalidEndpoint(String, reason: String)
    /// No connection to the engine (socket missing, connection refused, dropped, or no answer in time).
    case unreachable(endpoint: DockerEndpoint, underlying: any Error)
    /// The named container does not exist.
    case notFound(String)
    /// The engine answered with a non-2xx status; `message` is Docker's own explanation.
    case http(status: Int, message: String)
    /// The engine's answer was not what its API documents.
    case decoding(String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let value, let reason):
            "invalid Docker host '\(value)': \(reason)"
        case .unreachable(let endpoint, let underlying):
            "Docker unreachable at \(endpoint): \(Self.describeTransportFailure(underlying))"
        case .notFound(let container):
            "no such container: \(container)"
        case .http(let status, let message):
            "Docker answered HTTP \(status): \(message)"
        case .decoding(let detail):
            "unexpected answer from Docker: \(detail)"
        }
    }

    /// A short human reason (`No such file or directory`, `Connection refused`) rather than NIO's debug text.
    static func describeTransportFailure(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return describeTransportFailure(first.error)
            }
            return error.dnsAError.map { "cannot resolve host: \($0)" } ?? String(describing: error)
        case let error as HTTPClientError where error == .connectTimeout:
            return "connection timed out"
        case let error as HTTPClientError where error == .deadlineExceeded:
            return "no answer in time"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "connection closed by the engine"
        default:
            return String(describing: error)
        }
    }
}
