import NIOCore

/// Turns Docker log messages into log lines.
///
/// With `timestamps=1` each message is `TIMESTAMP content`. Docker's log copier reads
/// a container's output into a 16 KiB buffer (moby daemon/logger/copier.go): a line
/// that fills the buffer is written as a part of exactly 16 KiB without newline, and
/// the following messages of the same stream continue it, each with its own timestamp
/// prefix (Docker repeats the first part's). The line ends with a message ending in
/// "\n" — or with a shorter message without one: the output a container left
/// unterminated when it stopped, after which a restarted container's next line follows.
///
/// Lines are joined per stream (stdout and stderr parts interleave) and keep their
/// first part's timestamp. A line longer than `maxMessageBytes` is cut at a character
/// boundary and marked with `truncationMarker`; the rest of it is dropped.
///
/// A message without a valid timestamp prefix (not seen with `timestamps=1`) is kept
/// whole and gets the timestamp of the line before it, or `DockerTimestamp.epoch`:
/// reusing the previous time keeps timestamps in order and never drops content.
struct LogLineAssembler: Sendable {
    static let truncationMarker = "…[truncated]"
    /// The content length of a part of a line that Docker split.
    static let partialMessageLength = 16 * 1024

    /// The largest message in UTF-8 bytes, the truncation marker included.
    let maxMessageBytes: Int

    /// The line each stream has begun but not ended, indexed by `LogStreamKind.slot`.
    private var pendingLines: [PendingLine?] = Array(repeating: nil, count: LogStreamKind.allCases.count)
    private var lastTimestamp = DockerTimestamp.epoch

    init(maxMessageBytes: Int) {
        precondition(
            maxMessageBytes >= Self.truncationMarker.utf8.count + 4,
            "maxMessageBytes must leave room for the truncation marker and a character"
        )
        self.maxMessageBytes = maxMessageBytes
    }

    /// Takes one Docker log message of `stream`; returns the line it completes, if any.
    mutating func append(message: ByteBuffer, stream: LogStreamKind) -> DockerLogRecord? {
        message.withUnsafeReadableBytes { bytes in
            guard let lastByte = bytes.last else { return nil }
            let endsWithNewline = lastByte == UInt8(ascii: "\n")
            let slot = stream.slot

            guard pendingLines[slot] != nil else {
                let timestamp: DockerTimestamp
                var contentStart = 0
                if let prefix = DockerTimestamp.prefix(of: bytes) {
                    timestamp = prefix.timestamp
                    contentStart = prefix.length
                    lastTimestamp = timestamp
                } else {
                    timestamp = lastTimestamp
                }
                let content = Self.content(of: bytes, from: contentStart, endsWithNewline: endsWithNewline)
                if endsWithNewline || content.count < Self.partialMessageLength {
                    // The common case: a whole line in one message, made into a String straight from the received bytes.
                    let text = lineText(from: content, endsWithNewline: endsWithNewline)
                    return DockerLogRecord(stream: stream, timestamp: timestamp, message: text)
                }
                var line = PendingLine(timestamp: timestamp)
                line.append(content, maxMessageBytes: maxMessageBytes)
                pendingLines[slot] = line
                return nil
            }

            // A continuation: its own timestamp repeats the first part's and is dropped.
            let contentStart = DockerTimestamp.prefixLength(of: bytes) ?? 0
            let content = Self.content(of: bytes, from: contentStart, endsWithNewline: endsWithNewline)
            pendingLines[slot]?.append(content, maxMessageBytes: maxMessageBytes)
            guard endsWithNewline || content.count < Self.partialMessageLength,
                let line = pendingLines[slot].take()
            else { return nil }
            return record(from: line, stream: stream, endsWithNewline: endsWithNewline)
        }
    }

    /// Ends every line still pending, oldest first: the stream ended after a 16 KiB part.
    mutating func flush(into records: inout [DockerLogRecord]) {
        let pending = LogStreamKind.allCases.compactMap { stream in
            pendingLines[stream.slot].take().map { (stream, $0) }
        }
        for (stream, line) in pending.sorted(by: { $0.1.timestamp < $1.1.timestamp }) {
            records.append(record(from: line, stream: stream, endsWithNewline: false))
        }
    }

    /// A message's content: after the timestamp prefix, without the newline.
    private static func content(
        of message: UnsafeRawBufferPointer,
        from start: Int,
        endsWithNewline: Bool
    ) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: message[start..<(endsWithNewline ? message.count - 1 : message.count)])
    }

    private func record(from line: PendingLine, stream: LogStreamKind, endsWithNewline: Bool) -> DockerLogRecord {
        let message = line.isTruncated
            ? String(decoding: line.bytes, as: UTF8.self)
            : line.bytes.withUnsafeBytes { lineText(from: $0, endsWithNewline: endsWithNewline) }
        return DockerLogRecord(stream: stream, timestamp: line.timestamp, message: message)
    }

    /// The message for a line's content; a "\r" before the removed newline goes too.
    /// Invalid UTF-8 becomes U+FFFD.
    private func lineText(from content: UnsafeRawBufferPointer, endsWithNewline: Bool) -> String {
        var length = content.count
        if endsWithNewline, length > 0, content[length - 1] == UInt8(ascii: "\r") {
            length -= 1
        }
        guard length > maxMessageBytes else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: content[..<length]), as: UTF8.self)
        }
        let kept = Self.keptLength(of: content, maxMessageBytes: maxMessageBytes)
        return String(decoding: UnsafeRawBufferPointer(rebasing: content[..<kept]), as: UTF8.self) + Self.truncationMarker
    }

    /// How many bytes of an over-long line stay before the marker: as many as fit,
    /// without splitting a UTF-8 character (`content` must be longer than that).
    fileprivate static func keptLength(of content: UnsafeRawBufferPointer, maxMessageBytes: Int) -> Int {
        let limit = maxMessageBytes - truncationMarker.utf8.count
        var cut = limit
        // Step back over continuation bytes (10xxxxxx) to the start of the character the cut falls in.
        while cut > limit - 3, content[cut] & 0xC0 == 0x80 {
            cut -= 1
        }
        return cut
    }
}

/// A line that Docker split, while its parts arrive.
private struct PendingLine: Sendable {
    let timestamp: DockerTimestamp
    var bytes: [UInt8] = []
    /// Cut at the limit, with the marker appended: later parts are dropped.
    var isTruncated = false

    mutating func append(_ content: UnsafeRawBufferPointer, maxMessageBytes: Int) {
        guard !isTruncated else { return }
        // One byte beyond the limit is held back: it may be the "\r" of a "\r\n" that Docker split apart.
        let room = maxMessageBytes + 1 - bytes.count
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: content.prefix(room)))
        guard content.count > room else { return }
        let kept = bytes.withUnsafeBytes { LogLineAssembler.keptLength(of: $0, maxMessageBytes: maxMessageBytes) }
        bytes.removeSubrange(kept...)
        bytes.append(contentsOf: LogLineAssembler.truncationMarker.utf8)
        isTruncated = true
    }
}

extension LogStreamKind {
    fileprivate var slot: Int {
        switch self {
        case .stdout: 0
        case .stderr: 1
        case .tty: 2
        }
    }
}
