import Foundation
import Glibc
import NIOCore
import Shared
import Synchronization
import TestSupport

/// A load-client connection on a blocking socket that a thread of its own reads.
///
/// The single-stream scenario's whole load is one connection, and its client shares the
/// two cores with the pipeline it measures: every CPU second the client spends is taken
/// from dockerd, the agent, Redis and the gateway. On NIO each message crossed from an
/// event loop to a task, two thread wake-ups a message (a fifth of that client's samples);
/// here the thread that reads the socket also parses the WebSocket frames and tallies the
/// lines. One thread per connection: for one or a few busy streams, not for thousands.
final class BlockingLoadConnection: LoadConnection {
    let inbox = ConnectionInbox()
    private let socket: Int32
    private let port: Int
    private let path: String
    private let token: String
    /// Serialises writes: callers' requests, and the reader thread's handshake, pongs and close reply.
    private let writeLock = Mutex(())
    private let readerFinished = OneShot<Void>()
    /// Whether this side began the closing handshake: a close frame then ends it, unanswered.
    private let isClosing = Atomic(false)

    /// Bytes asked for per `read`: a busy stream's `log.lines` messages are ~100–250 KB.
    private static let readSize = 1 << 20

    /// Connects to the gateway on `127.0.0.1:port` and returns once it accepted the upgrade to a WebSocket on `path`.
    init(port: Int, path: String, token: String) async throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchError("socket() failed: \(String(cString: strerror(errno)))") }
        self.port = port
        self.path = path
        self.token = token
        let opened = OneShot<Void>()
        // The thread holds the connection until it has read the last frame; `deinit` closes the socket after that.
        let thread = Thread { self.run(reportingOpenTo: opened) }
        thread.name = "bench-ws-reader"
        thread.start()
        try await opened.value()
    }

    deinit {
        Glibc.close(socket)
    }

    /// Sends a text frame without waiting: a request is a few hundred bytes and the
    /// socket's send buffer is empty unless the gateway stopped reading, an error here.
    func send(_ text: String) throws {
        try writeFrame(opcode: WebSocketOpcode.text, payload: Array(text.utf8))
    }

    /// Starts the closing handshake and waits for the reader to end (at most 2 s, then the socket is shut).
    func close() async {
        isClosing.store(true, ordering: .relaxed)
        try? writeFrame(opcode: WebSocketOpcode.close, payload: Self.normalClosure)
        let socket = self.socket
        let forceShut = Task {
            guard (try? await Task.sleep(for: .seconds(2))) != nil else { return }
            shutdown(socket, Int32(SHUT_RDWR))
        }
        try? await readerFinished.value()
        forceShut.cancel()
        await forceShut.value
    }

    // MARK: The reader thread

    /// Status 1000, "normal closure".
    private static let normalClosure: [UInt8] = [0x03, 0xE8]
    /// How long the gateway may take to answer the upgrade.
    private static let upgradeTimeout = timeval(tv_sec: 10, tv_usec: 0)

    private func run(reportingOpenTo opened: OneShot<Void>) {
        var buffer = ReceiveBuffer(capacity: Self.readSize)
        var failure: (any Error)?
        do {
            try connect()
            try upgrade(reading: &buffer)
            opened.resume(with: .success(()))
            try readMessages(from: &buffer)
        } catch {
            // Before the upgrade this fails `init` (a later resume is ignored); after it, the inbox keeps it.
            opened.resume(with: .failure(error))
            failure = error
        }
        inbox.closed(by: failure)
        readerFinished.resume(with: .success(()))
    }

    private func connect() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw BenchError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends the upgrade request and reads the answer's head; the bytes after it stay in `buffer`.
    private func upgrade(reading buffer: inout ReceiveBuffer) throws {
        setReceiveTimeout(Self.upgradeTimeout)
        defer { setReceiveTimeout(timeval()) }  // zero: none, a live stream may pause for as long as it likes
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n\r\n"
        try writeAll(Array(request.utf8))
        let headEnd = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.unread.firstRange(of: headEnd)?.upperBound {
                let head = String(decoding: buffer.unread[..<end], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 101") else {
                    throw BenchError("the gateway refused the WebSocket: \(head.prefix { $0 != "\r" })")
                }
                buffer.consume(end)
                return
            }
            guard buffer.unread.count < 16 << 10 else { throw BenchError("the gateway's upgrade answer has no end of head") }
            guard try buffer.read(from: socket, toHold: buffer.unread.count + 1) else {
                throw BenchError("the gateway closed the connection during the upgrade")
            }
        }
    }

    private func setReceiveTimeout(_ timeout: timeval) {
        var timeout = timeout
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Hands each whole message to the inbox until the gateway closes (or `close()` shuts the socket).
    private func readMessages(from buffer: inout ReceiveBuffer) throws {
        var assembler = WebSocketMessageAssembler()
        var receivedAt = WallClock.nanoseconds()
        while true {
            let progress = try assembler.take(from: buffer.unread) { event in
                switch event {
                case .message(let bytes):
                    inbox.receive(bytes, at: receivedAt)
                case .ping(let payload):
                    try writeFrame(opcode: WebSocketOpcode.pong, payload: Array(payload))
                case .close(let payload):
                    // The gateway's answer to our close needs none; its own close gets its code back.
                    if !isClosing.load(ordering: .relaxed) { try? writeFrame(opcode: WebSocketOpcode.close, payload: Array(payload.prefix(2))) }
                }
            }
            buffer.consume(progress.consumed)
            if progress.isClosed { return }
            guard try buffer.read(from: socket, toHold: progress.needed) else { return }
            receivedAt = WallClock.nanoseconds()
        }
    }

    // MARK: Writing

    private func writeFrame(opcode: UInt8, payload: [UInt8]) throws {
        try writeAll(WebSocketClientFrame.encode(opcode: opcode, payload: payload, mask: (0..<4).map { _ in UInt8.random(in: 0...255) }))
    }

    /// Writes without waiting (`MSG_DONTWAIT`): callers' requests are sent from their tasks, and the
    /// cooperative pool must not block; the reader's pongs and close replies share the lock, and so the
    /// rule. Every write here is a few hundred bytes at most, which an empty send buffer always takes.
    /// A write cut short would leave half a frame on the wire, so a failed one shuts the connection.
    private func writeAll(_ bytes: [UInt8]) throws {
        try writeLock.withLock { _ in
            do {
                try FileDescriptorIO.sendAll(bytes, on: socket, flags: Int32(MSG_DONTWAIT))
            } catch let error as IOError {
                shutdown(socket, Int32(SHUT_RDWR))
                throw BenchError("cannot write to the gateway: \(String(cString: strerror(error.errnoCode)))")
            }
        }
    }
}

/// Bytes read from a socket and not yet parsed, in one buffer that grows to hold a whole frame.
private struct ReceiveBuffer: ~Copyable {
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        storage.deallocate()
    }

    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    mutating func consume(_ count: Int) {
        start += count
        if start == end { (start, end) = (0, 0) }
    }

    /// Reads once from `socket`, after making room for `needed` unread bytes and at least one
    /// more than are unread now; false at the end of the stream.
    mutating func read(from socket: Int32, toHold needed: Int) throws -> Bool {
        let wanted = max(needed, end - start + 1)
        if storage.count - start < wanted {
            if storage.count >= wanted {
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: end - start)
            } else {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: wanted, alignment: 8)
                larger.copyMemory(from: unread)
                storage.deallocate()
                storage = larger
            }
            (start, end) = (0, end - start)
        }
        while true {
            let count = Glibc.read(socket, storage.baseAddress! + end, storage.count - end)
            if count > 0 {
                end += count
                return true
            }
            if count == 0 { return false }
            guard errno == EINTR else { throw BenchError("cannot read from the gateway: \(String(cString: strerror(errno)))") }
        }
    }
}
