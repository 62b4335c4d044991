import NIOCore
import Shared

/// One container's log stream: the unit of subscriptions, channels and references.
struct StreamKey: Hashable, Sendable, CustomStringConvertible {
    let agent: AgentID
    let container: ContainerID

    var description: String { "\(agent)/\(container)" }
}

/// Where a line sits in its stream.
struct LinePosition: Sendable, Equatable {
    let epoch: Epoch
    let seq: Int

    /// Whether a line here comes after `other`: a later seq, or a new epoch (the agent reset its history).
    func follows(_ other: LinePosition?) -> Bool {
        guard let other else { return true }
        return epoch != other.epoch || seq > other.seq
    }
}

/// A frame of a stream as the agent wrote it (a `logs` channel message or a
/// history entry), read once for all clients: its bytes are shared, never re-encoded.
struct StreamFrame: Sendable {
    let bytes: ByteBuffer
    /// Set for `log.line` frames; other frames (`log.stream.ended`, …) pass through as they are.
    let position: LinePosition?
    /// Where the `Line` object sits in `bytes`' readable bytes, for `log.history` and `log.lines`.
    let lineObject: Range<Int>?

    init(_ bytes: ByteBuffer) {
        self.bytes = bytes
        (position, lineObject) = bytes.withUnsafeReadableBytes { frame in
            guard let parsed = LogLineFrame.parse(frame) else { return (nil, nil) }
            let epoch = Epoch(UnsafeRawBufferPointer(rebasing: frame[parsed.epochBytes]))
            return (LinePosition(epoch: epoch, seq: parsed.seq), parsed.lineObject)
        }
    }
}
