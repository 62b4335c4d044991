import NIOCore
import Shared

/// Turns a container's log, as Docker sends it, into `log.line` frames for Redis:
/// decodes Docker's records, drops those a resumed stream published before,
/// numbers the rest on from the stream's position and encodes them. Pure: bytes
/// in, frames out, no I/O.
struct LogLineEncoder: Sendable {
    private var decoder: DockerLogDecoder
    private var filter: ResumeFilter
    /// Just after the last line encoded.
    private(set) var position: StreamPosition
    private let template: LogLineFrame.Template
    /// Decoded records, the ones from `nextRecord` on not encoded yet.
    private var records: [DockerLogRecord] = []
    private var nextRecord = 0
    /// Each frame is made here, its storage reused, then copied into its batch.
    private var frame: [UInt8] = []

    init(tty: Bool, start: StreamPosition, agentID: AgentID, container: ContainerID) {
        decoder = DockerLogDecoder(tty: tty)
        filter = ResumeFilter(resumingAt: start)
        position = start
        template = LogLineFrame.Template(epoch: start.epoch, agentId: agentID.rawValue, containerId: container.rawValue)
    }

    /// Whether decoded lines wait for `encode(into:maxLines:)`.
    var hasDecodedLines: Bool { nextRecord < records.count }

    /// Consumes `chunk`; the lines it completes wait for `encode(into:maxLines:)`.
    mutating func decode(_ chunk: inout ByteBuffer) throws(DockerLogDecodingError) {
        if !hasDecodedLines {
            records.removeAll(keepingCapacity: true)
            nextRecord = 0
        }
        try decoder.decode(&chunk, into: &records)
    }

    /// Ends a finished log: its unfinished last line (a TTY's prompt, say) waits for `encode(into:maxLines:)`.
    mutating func finish() throws(DockerLogDecodingError) {
        records += try decoder.finish()
    }

    /// Encodes waiting lines into `batch` until it holds `maxLines` frames, or `maxBytes`
    /// bytes or more, or none wait.
    mutating func encode(into batch: inout RedisBulkArguments, maxLines: Int, maxBytes: Int = .max) {
        while nextRecord < records.count, batch.count < maxLines, batch.encoded.count < maxBytes {
            let record = records[nextRecord]
            nextRecord += 1
            guard filter.isNew(record) else { continue }
            position.advance(past: record.timestamp)
            frame.removeAll(keepingCapacity: true)
            record.timestamp.withTextBytes { timestamp in
                template.encode(seq: position.seq, timestamp: timestamp, stream: record.stream.rawValue, message: record.message, into: &frame)
            }
            batch.append(frame)
        }
    }
}
