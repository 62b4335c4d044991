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
    let epoch: String
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

    /// - Parameter knownEpoch: the epoch of the stream's previous line, shared when this one's is the same.
    init(_ bytes: ByteBuffer, knownEpoch: String? = nil) {
        self.bytes = bytes
        let parsed = bytes.withUnsafeReadableBytes { LogLineFrame.parse($0, knownEpoch: knownEpoch) }
        position = parsed.map { LinePosition(epoch: $0.epoch, seq: $0.seq) }
        lineObject = parsed?.lineObject
    }
}
