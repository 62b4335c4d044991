import NIOCore
import Testing

@testable import AgentService

/// Byte fixtures for the Docker log decoder: raw bodies of
/// `GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1` captured from Docker
/// 20.10.24 (json-file log driver), and builders that split lines the way Docker does.
enum DockerLogFixtures {
    /// `sh -c 'echo out1; echo err1 >&2; echo out2; echo; printf "noeol"; sleep 0.2; echo; echo err2 >&2'`
    /// without a TTY: six frames — stderr "err1", stdout "out1", "out2", "", "noeol"
    /// (Docker buffers output until the newline), stderr "err2".
    static let capturedMultiplexed = bytes(
        hex: """
            0200000000000024323032362d31312d32355430303a33323a30312e35373334
            39333438345a20657272310a0100000000000024323032362d31312d32355430
            303a33323a30312e3537343536393934375a206f7574310a0100000000000024
            323032362d31312d32355430303a33323a30312e3537343538303133325a206f
            7574320a0100000000000020323032362d31312d32355430303a33323a30312e
            3537343538323738365a200a0100000000000025323032362d31312d32355430
            303a33323a30312e3737343837343331375a206e6f656f6c0a02000000000000
            24323032362d31312d32355430303a33323a30312e3737343935343538375a20
            657272320a
            """
    )

    /// `sh -c 'echo tty1; echo; printf "a\r\nb"; sleep 0.2; echo c; printf "end-no-newline"'`
    /// with `-t`: no frames; the terminal turns "\n" into "\r\n" (so "a\r\n" arrives as
    /// "a\r\r\n"), and the last output, without newline, ends the body unterminated.
    static let capturedTTY = bytes(
        hex: """
            323032362d31312d32355430303a33323a30322e3038313136343135335a2074
            7479310d0a323032362d31312d32355430303a33323a30322e30383131393735
            36335a200d0a323032362d31312d32355430303a33323a30322e303831323030
            3139375a20610d0d0a323032362d31312d32355430303a33323a30322e323738
            3934333137315a2062630d0a323032362d31312d32355430303a33323a30322e
            3331323430393335315a20656e642d6e6f2d6e65776c696e65
            """
    )

    /// `printf "h\303\251llo \342\202\254\n"; printf "bad\377\376x\n"; printf "cr\r\n"` without a TTY:
    /// Docker itself already replaced the invalid bytes with U+FFFD (EF BF BD), and kept "\r".
    static let capturedUTF8 = bytes(
        hex: """
            010000000000002a323032362d31312d32355430303a33323a32362e34333630
            35323436355a2068c3a96c6c6f20e282ac0a010000000000002a323032362d31
            312d32355430303a33323a32362e3433363130393839315a20626164efbfbdef
            bfbd780a0100000000000023323032362d31312d32355430303a33323a32362e
            3433363131323530355a2063720d0a
            """
    )

    /// `sh -c 'echo start; printf partial-no-newline'`, run and started again, without a TTY.
    static let capturedRestart = bytes(
        hex: """
            0100000000000025323032362d31312d32355430303a34313a33332e39353436
            36373532385a2073746172740a0100000000000031323032362d31312d323554
            30303a34313a33332e3937383338313538365a207061727469616c2d6e6f2d6e
            65776c696e650100000000000025323032362d31312d32355430303a34313a33
            342e3136343536363935325a2073746172740a0100000000000031323032362d
            31312d32355430303a34313a33342e3138393336373737325a20706172746961
            6c2d6e6f2d6e65776c696e65
            """
    )

    /// The same with `-t`: nothing separates the first run's unterminated output from the second run.
    static let capturedTTYRestart = bytes(
        hex: """
            323032362d31312d32355430303a34313a33352e3431323730333739385a2073
            746172740d0a323032362d31312d32355430303a34313a33352e343337333537
            3439385a207061727469616c2d6e6f2d6e65776c696e65323032362d31312d32
            355430303a34313a33352e3632383832313537335a2073746172740d0a323032
            362d31312d32355430303a34313a33352e3635353333363137395a2070617274
            69616c2d6e6f2d6e65776c696e65
            """
    )

    static func bytes(hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    /// One multiplexed frame: stream type, three zero bytes, big-endian payload length, payload.
    static func frame(type: UInt8, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        let lengthBytes = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) }
        return [type, 0, 0, 0] + lengthBytes + payload
    }

    static func frame(_ stream: LogStreamKind, _ message: String) -> [UInt8] {
        frame(type: stream == .stderr ? 2 : 1, payload: Array(message.utf8))
    }

    /// The messages Docker writes for one line: parts of 16 KiB of content, each with its
    /// own timestamp prefix, the last one ending in `newline` (none: the container stopped). Docker gives every part the
    /// first part's timestamp; `partTimestamps` can vary them to show which one is kept.
    static func dockerMessages(line: [UInt8], partTimestamps: [String], newline: [UInt8] = [0x0A]) -> [[UInt8]] {
        let partLength = LogLineAssembler.partialMessageLength
        let content = line + newline
        return stride(from: 0, to: content.count, by: partLength).enumerated().map { part, start in
            let timestamp = partTimestamps[min(part, partTimestamps.count - 1)]
            return Array("\(timestamp) ".utf8) + content[start..<min(start + partLength, content.count)]
        }
    }
}

extension DockerLogFixtures {
    /// Decodes `chunks` one after another, as they would arrive from the network, then finishes.
    static func decode(
        _ chunks: [[UInt8]],
        tty: Bool,
        maxMessageBytes: Int = DockerLogDecoder.defaultMaxMessageBytes
    ) throws -> [DockerLogRecord] {
        var decoder = DockerLogDecoder(tty: tty, maxMessageBytes: maxMessageBytes)
        var records: [DockerLogRecord] = []
        for chunk in chunks {
            var buffer = ByteBuffer(bytes: chunk)
            try decoder.decode(&buffer, into: &records)
            #expect(buffer.readableBytes == 0, "decode consumes the whole chunk")
        }
        return try records + decoder.finish()
    }

    /// `bytes` cut into chunks of `size` bytes.
    static func chunks(of bytes: [UInt8], size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

extension DockerLogRecord {
    /// An expected record.
    init(_ stream: LogStreamKind, _ timestamp: String, _ message: String) throws {
        self.init(stream: stream, timestamp: try #require(DockerTimestamp(timestamp)), message: message)
    }
}
