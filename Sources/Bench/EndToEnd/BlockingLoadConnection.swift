import Foundation
import Glibc
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
        try writeFrame(opcode: Opcode.text, payload: Array(text.utf8))
    }

    /// Starts the closing handshake and waits for the reader to end (at most 2 s, then the socket is shut).
    func close() async {
        isClosing.store(true, ordering: .relaxed)
        try? writeFrame(opcode: Opcode.close, payload: Self.normalClosure)
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

    private enum Opcode {
        static let continuation: UInt8 = 0x0
        static let text: UInt8 = 0x1
        static let binary: UInt8 = 0x2
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
        static let pong: UInt8 = 0xA
    }

    /// Status 1000, "normal closure".
    private static let normalClosure: [UInt8] = [0x03, 0xE8]

    private func run(reportingOpenTo opened: OneShot<Void>) {
        var buffer = ReceiveBuffer(capacity: Self.readSize)
        do {
            try connect()
            try upgrade(reading: &buffer)
            opened.resume(with: .success(()))
            try readMessages(from: &buffer)
        } catch {
            // Before the upgrade this fails `init`; after it, the inbox's `closed()` tells waiting requests.
            opened.resume(with: .failure(error))
        }
        inbox.closed()
        readerFinished.resume(with: .success(()))
    }

    private func connect() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw BenchError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends the upgrade request and reads the answer's head; the bytes after it stay in `buffer`.
    private func upgrade(reading buffer: inout ReceiveBuffer) throws {
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n\r\n"
        try writeAll(Array(request.utf8), waiting: true)
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

    /// Hands each whole message to the inbox until the gateway closes (or `close()` shuts the socket).
    private func readMessages(from buffer: inout ReceiveBuffer) throws {
        var fragments: [UInt8] = []
        var receivedAt = WallClock.nanoseconds()
        while true {
            while let frame = try FrameHeader(parsing: buffer.unread), buffer.unread.count >= frame.length {
                let payload = UnsafeRawBufferPointer(rebasing: buffer.unread[frame.headerLength..<frame.length])
                switch frame.opcode {
                case Opcode.text, Opcode.binary, Opcode.continuation:
                    if frame.isFinal && fragments.isEmpty {
                        inbox.receive(payload, at: receivedAt)
                    } else {
                        fragments.append(contentsOf: payload)
                        guard fragments.count <= LoadConnectionLimits.maxMessageSize else {
                            throw BenchError("a message of the gateway is over \(LoadConnectionLimits.maxMessageSize) bytes")
                        }
                        if frame.isFinal {
                            fragments.withUnsafeBytes { inbox.receive($0, at: receivedAt) }
                            fragments.removeAll(keepingCapacity: true)
                        }
                    }
                case Opcode.close:
                    if !isClosing.load(ordering: .relaxed) { try? writeFrame(opcode: Opcode.close, payload: Array(payload.prefix(2))) }
                    return
                case Opcode.ping:
                    try writeFrame(opcode: Opcode.pong, payload: Array(payload))
                default:
                    break  // a pong: nothing to do
                }
                buffer.consume(frame.length)
            }
            let needed = try FrameHeader(parsing: buffer.unread)?.length ?? FrameHeader.maxHeaderLength
            guard try buffer.read(from: socket, toHold: needed) else { return }
            receivedAt = WallClock.nanoseconds()
        }
    }

    // MARK: Writing

    /// Writes one masked client frame.
    private func writeFrame(opcode: UInt8, payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        frame.reserveCapacity(payload.count + 14)
        switch payload.count {
        case ..<126:
            frame.append(0x80 | UInt8(payload.count))
        case ...0xFFFF:
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            frame.append(0x80 | 127)
            frame += stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: payload.count >> $0) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index & 3]) }
        try writeAll(frame, waiting: false)
    }

    /// - Parameter waiting: false to fail rather than block when the send buffer is full,
    ///   for writes made on a caller's thread (the cooperative pool must not block).
    private func writeAll(_ bytes: [UInt8], waiting: Bool) throws {
        let flags = Int32(MSG_NOSIGNAL) | (waiting ? 0 : Int32(MSG_DONTWAIT))
        try writeLock.withLock { _ in
            try bytes.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let sent = Glibc.send(socket, bytes.baseAddress! + offset, bytes.count - offset, flags)
                    if sent < 0 {
                        guard errno == EINTR else { throw BenchError("cannot write to the gateway: \(String(cString: strerror(errno)))") }
                        continue
                    }
                    offset += sent
                }
            }
        }
    }
}

/// A server frame's header (RFC 6455 §5.2): server frames are never masked.
private struct FrameHeader {
    static let maxHeaderLength = 10

    var isFinal: Bool
    var opcode: UInt8
    var headerLength: Int
    /// Header and payload.
    var length: Int

    /// Nil until `bytes` holds the whole header.
    init?(parsing bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= 2 else { return nil }
        guard bytes[1] & 0x80 == 0 else { throw BenchError("the gateway sent a masked frame") }
        var payloadLength = Int(bytes[1] & 0x7F)
        headerLength = 2
        if payloadLength >= 126 {
            let extra = payloadLength == 126 ? 2 : 8
            guard bytes.count >= 2 + extra else { return nil }
            payloadLength = bytes[2..<(2 + extra)].reduce(0) { $0 << 8 | Int($1) }
            headerLength += extra
        }
        guard payloadLength <= LoadConnectionLimits.maxMessageSize else {
            throw BenchError("a frame of the gateway is over \(LoadConnectionLimits.maxMessageSize) bytes")
        }
        isFinal = bytes[0] & 0x80 != 0
        opcode = bytes[0] & 0x0F
        length = headerLength + payloadLength
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

    /// Reads once from `socket`, after making room for `needed` unread bytes; false at the end of the stream.
    mutating func read(from socket: Int32, toHold needed: Int) throws -> Bool {
        if storage.count - start < max(needed, end - start + 1) {
            let capacity = max(storage.count, needed)
            let moved = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
            moved.copyMemory(from: unread)
            storage.deallocate()
            storage = moved
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
