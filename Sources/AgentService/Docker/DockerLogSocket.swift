import Glibc
import NIOCore
import NIOHTTP1
import Shared

/// What to send Docker for a container's log; `DockerClient.logRequest` makes it and
/// the thread that reads the log opens it (`DockerLogSocket`).
struct DockerLogRequest: Sendable {
    let endpoint: DockerEndpoint
    /// The container the log is of, so that a 404 becomes `.notFound(container)`.
    let container: String
    /// The whole request: an HTTP/1.0 GET, so that Docker sends the body unchunked until it closes the connection.
    let bytes: [UInt8]
}

/// A container's log from Docker on a blocking socket, for the one thread that reads it.
///
/// Every call may block that thread, up to `DockerHTTP.responseHeadTimeout` for the
/// head; `read` blocks until bytes come, so the reader `poll`s `fileDescriptor` first.
/// Failures are thrown as `DockerClient` throws them: `DockerError`, or
/// `CancellationError` once the given wake-up is signalled.
final class DockerLogSocket {
    let fileDescriptor: Int32
    private let endpoint: DockerEndpoint
    /// Body bytes that came in with the head, handed out by the first `read`.
    private var bodyStart = ByteBuffer()
    /// Body bytes still to come when Docker gave a length.
    private var remaining: Int?

    /// Connects, sends `request` and reads the answer's head; throws for a non-2xx answer.
    init(_ request: DockerLogRequest, cancellation: ThreadWakeup) throws {
        endpoint = request.endpoint
        if cancellation.isSignalled { throw CancellationError() }
        do {
            fileDescriptor = try Self.connect(to: request.endpoint)
        } catch {
            throw Self.mapped(error, endpoint: request.endpoint)
        }
        // From here on a throw runs `deinit`, which closes the socket.
        do {
            try FileDescriptorIO.sendAll(request.bytes, on: fileDescriptor)
            let deadline = NIODeadline.now() + DockerHTTP.responseHeadTimeout
            let head = try readHead(cancellation: cancellation, deadline: deadline)
            guard (200..<300).contains(head.status) else {
                throw DockerHTTP.error(
                    status: HTTPResponseStatus(statusCode: head.status, reasonPhrase: head.reason),
                    // The status says what went wrong; its explanation is a bonus.
                    body: try? errorBody(cancellation: cancellation, deadline: deadline),
                    container: request.container
                )
            }
        } catch {
            throw Self.mapped(error, endpoint: endpoint)
        }
    }

    deinit {
        close(fileDescriptor)
    }

    /// Whether `read` returns without the socket being readable: body bytes came in with
    /// the head, or the body's length is reached.
    var canReadWithoutWaiting: Bool { bodyStart.readableBytes > 0 || remaining.map { $0 <= 0 } ?? false }

    /// Appends what the socket has to `buffer` (blocking until something comes, unless
    /// `canReadWithoutWaiting`); false at the end of the body.
    func read(into buffer: inout ByteBuffer) throws -> Bool {
        if bodyStart.readableBytes > 0 {
            buffer.writeBuffer(&bodyStart)
            return true
        }
        if let remaining, remaining <= 0 { return false }
        let before = buffer.readableBytes
        do {
            guard try Self.read(fileDescriptor, into: &buffer, limit: remaining) else {
                if let remaining, remaining > 0 { throw DockerError.decoding("the connection closed \(remaining) bytes before the end of the answer") }
                return false
            }
        } catch {
            throw Self.mapped(error, endpoint: endpoint)
        }
        remaining? -= buffer.readableBytes - before
        return true
    }

    /// `read`, after waiting for the socket when it must: until `deadline`, or until
    /// `cancellation` is signalled (then it throws `CancellationError`).
    func read(into buffer: inout ByteBuffer, cancellation: ThreadWakeup, deadline: NIODeadline) throws -> Bool {
        if !canReadWithoutWaiting {
            try Self.waitUntilReadable(fileDescriptor, cancellation: cancellation, deadline: deadline)
        }
        return try read(into: &buffer)
    }

    /// Docker's explanation of a refusal: what is left of the body, up to `DockerHTTP.maximumErrorBodySize`.
    private func errorBody(cancellation: ThreadWakeup, deadline: NIODeadline) throws -> ByteBuffer {
        var body = ByteBuffer()
        while body.readableBytes < DockerHTTP.maximumErrorBodySize {
            guard try read(into: &body, cancellation: cancellation, deadline: deadline) else { break }
        }
        return body
    }

    /// Reads until the head is whole; the body bytes read with it wait in `bodyStart`.
    private func readHead(cancellation: ThreadWakeup, deadline: NIODeadline) throws -> DockerResponseHead {
        var received = ByteBuffer()
        while true {
            try Self.waitUntilReadable(fileDescriptor, cancellation: cancellation, deadline: deadline)
            guard try Self.read(fileDescriptor, into: &received) else {
                throw DockerError.decoding("the connection closed before the answer's head")
            }
            if let head = try DockerResponseHead.parse(received.readableBytesView) {
                received.moveReaderIndex(forwardBy: head.byteCount)
                if let length = head.contentLength, received.readableBytes > length {
                    received.moveWriterIndex(to: received.readerIndex + length)
                }
                bodyStart = received
                remaining = head.contentLength.map { $0 - received.readableBytes }
                return head
            }
        }
    }

    private static func mapped(_ error: any Error, endpoint: DockerEndpoint) -> any Error {
        error is DockerError || error is CancellationError ? error : DockerError.unreachable(endpoint: endpoint, underlying: error)
    }

    // MARK: System calls

    /// Waits until `descriptor` is readable; throws `CancellationError` once `cancellation`
    /// is signalled, and a timeout at `deadline`.
    private static func waitUntilReadable(_ descriptor: Int32, cancellation: ThreadWakeup, deadline: NIODeadline) throws {
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: cancellation.fileDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let left = deadline - .now()
            guard left > .zero else { throw IOError(errnoCode: ETIMEDOUT, reason: "no answer in time") }
            let ready = poll(&descriptors, 2, Int32(clamping: max(1, left.nanoseconds / 1_000_000)))
            if ready < 0, errno != EINTR { throw IOError(errnoCode: errno, reason: "poll") }
            if descriptors[1].revents != 0 { throw CancellationError() }
            if descriptors[0].revents != 0 { return }
        }
    }

    /// One `read` into `buffer`'s free space (growing it to at least 64 KiB free); false at the end of the stream.
    private static func read(_ descriptor: Int32, into buffer: inout ByteBuffer, limit: Int? = nil) throws -> Bool {
        while true {
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 << 10) { free in
                Glibc.read(descriptor, free.baseAddress, min(free.count, limit ?? free.count))
            }
            if count > 0 { return true }
            if count == 0 { return false }
            if errno != EINTR { throw IOError(errnoCode: errno, reason: "read") }
        }
    }

    /// A blocking socket connected to `endpoint`, within `DockerHTTP.connectTimeout`.
    private static func connect(to endpoint: DockerEndpoint) throws -> Int32 {
        switch endpoint {
        case .unixSocket(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let pathBytes = Array(path.utf8)
            guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw DockerError.invalidEndpoint(endpoint.description, reason: "socket path too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
            return try withUnsafeBytes(of: &address) { raw in
                try connectSocket(family: AF_UNIX, to: raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length: socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var found: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &found)
            guard status == 0, let first = found else {
                throw IOError(errnoCode: EHOSTUNREACH, reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(first) }
            var lastError: any Error = IOError(errnoCode: EHOSTUNREACH, reason: "connect")
            for candidate in sequence(first: first, next: { $0.pointee.ai_next }) {
                do {
                    return try connectSocket(family: candidate.pointee.ai_family, to: candidate.pointee.ai_addr, length: candidate.pointee.ai_addrlen)
                } catch {
                    lastError = error
                }
            }
            throw lastError
        }
    }

    private static func connectSocket(family: Int32, to address: UnsafePointer<sockaddr>, length: socklen_t) throws -> Int32 {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        // Linux bounds a blocking connect by the send timeout.
        var timeout = timeval(tv_sec: Int(DockerHTTP.connectTimeout.nanoseconds / 1_000_000_000), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(descriptor, address, length) == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code == EINPROGRESS ? ETIMEDOUT : code, reason: "connect")
        }
        return descriptor
    }
}
