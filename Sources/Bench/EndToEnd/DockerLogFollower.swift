import Foundation
import Glibc
import TestSupport

/// Follows a running container's log straight from the Docker API (`follow=1&timestamps=1`,
/// the agent's own request) and times every line the way the load client does: receipt
/// wall-clock time minus the line's Docker timestamp. Its latency is the floor under the
/// product's: what any reader of Docker's API sees.
///
/// Plain blocking socket reads on a thread of its own: nothing of Swift concurrency or NIO
/// between Docker and the clock, and the cooperative pool is never blocked.
enum DockerLogFollower {
    struct Result: Sendable {
        var linesInWindow: Int
        var latencies: [Int32]
    }

    /// Follows `container` from now until `window.end + grace` and returns the lines Docker
    /// stamped inside `window`.
    static func follow(socketPath: String, container: String, window: MeasureWindow, grace: Duration) async throws -> Result {
        let result = OneShot<Result>()
        let stopAt = window.end + Int64(grace.seconds * 1e9)
        let since = WallClock.nanoseconds() / 1_000_000_000 - 1
        let request = "GET /containers/\(container)/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=\(since) HTTP/1.0\r\nHost: docker\r\n\r\n"
        Thread {
            result.resume(with: Swift.Result { try read(socketPath: socketPath, request: request, window: window, stopAt: stopAt) })
        }.start()
        return try await result.value()
    }

    private static func read(socketPath: String, request: String, window: MeasureWindow, stopAt: Int64) throws -> Result {
        let socket = try connect(socketPath)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)  // wake up to check the stop time
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard request.utf8CString.withUnsafeBufferPointer({ write(socket, $0.baseAddress, $0.count - 1) }) == request.utf8.count else {
            throw BenchError("cannot send the log request to \(socketPath)")
        }
        var result = Result(linesInWindow: 0, latencies: [])
        var pending: [UInt8] = []
        var headerDone = false
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while WallClock.nanoseconds() < stopAt {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw BenchError("reading the Docker log failed: \(String(cString: strerror(errno)))")
            }
            let receivedAt = WallClock.nanoseconds()
            pending.append(contentsOf: chunk[..<count])
            if !headerDone {
                guard let end = headerEnd(pending) else { continue }
                let statusLine = String(decoding: pending.prefix(while: { $0 != UInt8(ascii: "\r") }), as: UTF8.self)
                guard statusLine.contains(" 200 ") else { throw BenchError("Docker answered the log request with \(statusLine)") }
                pending.removeFirst(end)
                headerDone = true
            }
            let consumed = parseFrames(pending) { timestamp in
                guard window.contains(timestamp) else { return }
                result.linesInWindow += 1
                result.latencies.append(Int32(clamping: (receivedAt - timestamp) / 1000))
            }
            pending.removeFirst(consumed)
        }
        return result
    }

    /// Docker's multiplexed stream: an 8-byte header (stream, 0, 0, 0, size as big-endian
    /// UInt32), then `TIMESTAMP message\n`. Returns the bytes consumed (whole frames only).
    private static func parseFrames(_ bytes: [UInt8], _ line: (Int64) -> Void) -> Int {
        var offset = 0
        while bytes.count - offset >= 8 {
            let size = bytes[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            guard bytes.count - offset - 8 >= size else { break }
            let payload = (offset + 8)..<(offset + 8 + size)
            let space = bytes[payload].firstIndex(of: UInt8(ascii: " ")) ?? payload.upperBound
            bytes.withUnsafeBytes { raw in
                if let timestamp = RFC3339.nanoseconds(UnsafeRawBufferPointer(rebasing: raw[payload.lowerBound..<space])) { line(timestamp) }
            }
            offset = payload.upperBound
        }
        return offset
    }

    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    private static func connect(_ path: String) throws -> Int32 {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchError("socket(AF_UNIX) failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socket)
            throw BenchError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw BenchError("cannot connect to \(path): \(String(cString: strerror(errno)))")
        }
        return socket
    }
}
