/// The WebSocket framing `BlockingLoadConnection` speaks as a client (RFC 6455 §5): pure
/// code over bytes, apart from the socket that carries them.
enum WebSocketOpcode {
    static let continuation: UInt8 = 0x0
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA
}

/// The header of a frame from a WebSocket server, whose frames are never masked.
struct WebSocketFrameHeader {
    static let maxHeaderLength = 10

    var isFinal: Bool
    var opcode: UInt8
    var headerLength: Int
    /// Header and payload.
    var length: Int

    /// Nil until `bytes` holds the whole header.
    /// - Throws: for a masked frame, or a payload over `LoadConnectionLimits.maxMessageSize`.
    init?(parsing bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= 2 else { return nil }
        guard bytes[1] & 0x80 == 0 else { throw BenchError("the gateway sent a masked frame") }
        var payloadLength = Int(bytes[1] & 0x7F)
        headerLength = 2
        if payloadLength >= 126 {
            let extra = payloadLength == 126 ? 2 : 8
            guard bytes.count >= 2 + extra else { return nil }
            // A 64-bit length with its top bit set (invalid) comes out negative here.
            payloadLength = bytes[2..<(2 + extra)].reduce(0) { $0 << 8 | Int($1) }
            headerLength += extra
        }
        guard (0...LoadConnectionLimits.maxMessageSize).contains(payloadLength) else {
            throw BenchError("a frame of the gateway is over \(LoadConnectionLimits.maxMessageSize) bytes")
        }
        isFinal = bytes[0] & 0x80 != 0
        opcode = bytes[0] & 0x0F
        length = headerLength + payloadLength
    }
}

/// Turns a server's frames, as they arrive, into whole messages and control frames.
struct WebSocketMessageAssembler {
    /// What the frames said; the bytes are valid during the call to `take`'s handler only.
    enum Event {
        case message(UnsafeRawBufferPointer)
        case ping(UnsafeRawBufferPointer)
        /// The server's close frame: nothing after it is read.
        case close(UnsafeRawBufferPointer)
    }

    struct Progress {
        /// Bytes of whole frames taken from the front of the input.
        var consumed: Int
        /// How many bytes the next frame needs from where `consumed` ends (at least its header).
        var needed: Int
        var isClosed: Bool
    }

    /// The data frames of a fragmented message so far.
    private var fragments: [UInt8] = []

    /// Takes every whole frame at the front of `bytes`, handing each message and control frame to `handle`.
    mutating func take(from bytes: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws -> Progress {
        var offset = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let frame = try WebSocketFrameHeader(parsing: rest) else {
                return Progress(consumed: offset, needed: WebSocketFrameHeader.maxHeaderLength, isClosed: false)
            }
            guard rest.count >= frame.length else { return Progress(consumed: offset, needed: frame.length, isClosed: false) }
            let payload = UnsafeRawBufferPointer(rebasing: rest[frame.headerLength..<frame.length])
            offset += frame.length
            switch frame.opcode {
            case WebSocketOpcode.text, WebSocketOpcode.binary, WebSocketOpcode.continuation:
                if frame.isFinal && fragments.isEmpty {
                    try handle(.message(payload))
                    continue
                }
                fragments.append(contentsOf: payload)
                guard fragments.count <= LoadConnectionLimits.maxMessageSize else {
                    throw BenchError("a message of the gateway is over \(LoadConnectionLimits.maxMessageSize) bytes")
                }
                if frame.isFinal {
                    try fragments.withUnsafeBytes { try handle(.message($0)) }
                    fragments.removeAll(keepingCapacity: true)
                }
            case WebSocketOpcode.ping:
                try handle(.ping(payload))
            case WebSocketOpcode.pong:
                break
            case WebSocketOpcode.close:
                try handle(.close(payload))
                return Progress(consumed: offset, needed: 0, isClosed: true)
            default:
                throw BenchError("the gateway sent a frame of reserved opcode \(frame.opcode)")
            }
        }
    }
}

enum WebSocketClientFrame {
    /// One final frame from a client: masked with `mask`, as RFC 6455 requires of clients.
    static func encode(opcode: UInt8, payload: [UInt8], mask: [UInt8]) -> [UInt8] {
        precondition(mask.count == 4, "a WebSocket mask is 4 bytes")
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
        frame += mask
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index & 3]) }
        return frame
    }
}
