import Foundation
import Glibc
import TestSupport

/// Plain HTTP/1.1 over a socket, for checking exact statuses and headers,
/// including refused WebSocket upgrades. Blocking I/O runs on a thread of its own.
enum HTTPProbe {
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }

        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    }

    /// The headers of a WebSocket upgrade request (add them to `headers` to try one).
    static let upgradeHeaders = [
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
    ]

    static func request(port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try exchange(port: port, method: method, path: path, headers: headers, body: body) })
            }.start()
        }
    }

    private static func exchange(port: Int, method: String, path: String, headers: [String: String], body: String?) throws -> Response {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestSetupError("socket() failed") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSetupError("cannot connect to port \(port)") }

        var fields = ["Host": "127.0.0.1:\(port)", "Connection": "close"].merging(headers) { $1 }
        if let body { fields["Content-Length"] = "\(body.utf8.count)" }
        var request = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in fields { request += "\(name): \(value)\r\n" }
        request += "\r\n" + (body ?? "")
        let bytes = Array(request.utf8)
        guard write(socket, bytes, bytes.count) == bytes.count else { throw TestSetupError("write failed") }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var head: (status: Int, headers: [(name: String, value: String)], bodyStart: Int)?
        while true {
            let count = read(socket, &buffer, buffer.count)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if head == nil { head = parseHead(received) }
            guard let head else { continue }
            if head.status == 101 { break }
            let length = head.headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) }
            if let length, received.count - head.bodyStart >= length { break }
        }
        guard let head else { throw TestSetupError("no HTTP response from port \(port)") }
        return Response(status: head.status, headers: head.headers, body: String(decoding: received[head.bodyStart...], as: UTF8.self))
    }

    private static func parseHead(_ bytes: [UInt8]) -> (status: Int, headers: [(name: String, value: String)], bodyStart: Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return (status, headers, end + 4)
    }
}
