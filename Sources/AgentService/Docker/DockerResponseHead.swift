import Foundation

/// The head of Docker's answer to a streaming GET, parsed from the bytes read so
/// far (`DockerLogSocket`). Pure: bytes in, a head out.
struct DockerResponseHead: Equatable {
    var status: Int
    var reason: String
    /// The body's length when Docker gave one; else the body lasts until the connection closes.
    var contentLength: Int?
    /// How many bytes the head took, its blank line included; the body starts after them.
    var byteCount: Int

    /// A head longer than this is not Docker's.
    static let maximumByteCount = 64 << 10

    /// The head at the start of `bytes`, or nil until its blank line has arrived.
    /// - Throws: `DockerError.decoding` for an answer that is not HTTP/1, or a body this reader cannot take.
    static func parse(_ bytes: some Collection<UInt8>) throws(DockerError) -> DockerResponseHead? {
        let bytes = Array(bytes.prefix(maximumByteCount + 4))
        guard let end = blankLine(in: bytes) else {
            if bytes.count > maximumByteCount { throw .decoding("an answer head over \(maximumByteCount) bytes") }
            return nil
        }
        var lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]), (100..<600).contains(status) else {
            throw .decoding("not an HTTP/1 answer: \(String(lines.first ?? "").prefix(80))")
        }
        var head = DockerResponseHead(status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", contentLength: nil, byteCount: end + 4)
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0 else { throw .decoding("Content-Length '\(value)'") }
                head.contentLength = length
            case "transfer-encoding" where value.lowercased() != "identity":
                // The request is HTTP/1.0, which a server may not answer with a transfer coding (RFC 9112 §6.1).
                throw .decoding("Transfer-Encoding '\(value)' in an answer to an HTTP/1.0 request")
            default:
                continue
            }
        }
        return head
    }

    /// Where the first `\r\n\r\n` starts.
    private static func blankLine(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
