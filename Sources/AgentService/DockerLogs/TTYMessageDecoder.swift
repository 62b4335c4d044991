import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts the log stream of a container with a TTY into Docker log messages. There are
/// no frame headers: messages follow each other as `TIMESTAMP content`, and one ends
/// after its newline — or, when Docker split a long line, after exactly
/// `LogLineAssembler.partialMessageLength` content bytes, where the next part's
/// timestamp follows.
///
/// Nothing marks the end of a container's unterminated last output, so after a restart
/// it runs into the next run's first line (timestamp included) — unlike without a TTY,
/// where frames delimit it.
///
/// Works like swift-nio's `NIOSingleStepByteToMessageDecoder`: the caller keeps the
/// bytes received so far and calls `decode(buffer:)` until it returns nil.
struct TTYMessageDecoder: Sendable {
    /// How far the current message was already searched for a newline, so bytes
    /// arriving in small chunks are not searched again.
    private var searchedLength = 0

    /// The next whole message, consumed from `buffer`; nil while `buffer` ends inside one.
    mutating func decode(buffer: inout ByteBuffer) -> ByteBuffer? {
        let messageLength: Int? = buffer.withUnsafeReadableBytes { bytes in
            let newlineEnd = bytes.indexOfNewline(from: searchedLength).map { $0 + 1 }
            // The prefix length is only certain once the message's end or enough bytes for any timestamp are here.
            guard newlineEnd != nil || bytes.count > DockerTimestamp.maxTextLength else {
                searchedLength = bytes.count
                return nil
            }
            let knownBytes = UnsafeRawBufferPointer(rebasing: bytes[..<(newlineEnd ?? bytes.count)])
            let lengthLimit = (DockerTimestamp.prefixLength(of: knownBytes) ?? 0) + LogLineAssembler.partialMessageLength
            if let newlineEnd, newlineEnd <= lengthLimit {
                return newlineEnd
            }
            if bytes.count >= lengthLimit {
                return lengthLimit
            }
            searchedLength = bytes.count
            return nil
        }
        guard let messageLength else { return nil }
        searchedLength = 0
        return buffer.readSlice(length: messageLength)
    }

    /// Called once the stream has ended: what is left is a last message without newline.
    mutating func decodeLast(buffer: inout ByteBuffer) -> ByteBuffer? {
        searchedLength = 0
        guard buffer.readableBytes > 0 else { return nil }
        return buffer.readSlice(length: buffer.readableBytes)
    }
}

extension UnsafeRawBufferPointer {
    /// The first "\n" at or after `start`, found with memchr: this scans every byte of TTY output.
    fileprivate func indexOfNewline(from start: Int) -> Int? {
        guard start < count, let baseAddress else { return nil }
        guard let match = memchr(baseAddress + start, Int32(UInt8(ascii: "\n")), count - start) else { return nil }
        return baseAddress.distance(to: UnsafeRawPointer(match))
    }
}
