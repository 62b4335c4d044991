import Logging
import NIOCore
import Shared

/// One pass of following a container's log into Redis: from the saved
/// position (or the last `historySize` lines) until the container stops,
/// then one read of the finished log for the output the follow missed.
///
/// A reader task decodes Docker's bytes into frames while a publisher task
/// writes them to Redis in batches; `PendingLines` sits between them.
struct ContainerStream {
    enum Outcome: Equatable {
        /// The log ended because the container is not running; the reason is for `log.stream.ended`.
        case containerStopped(reason: String)
        /// The log ended but the container still runs (Docker closed the connection): follow again.
        case interrupted
    }

    let container: ContainerID
    let docker: DockerClient
    let publisher: StreamPublisher
    let logger: Logger
    /// Lines per Redis round trip at most; large enough to amortise it, small enough not to stall Redis.
    /// Under load, batches are spaced by `BatchPacing` so that they fill up.
    static let maxBatchLines = 1000

    func run() async throws -> Outcome {
        let tty = try await docker.inspect(container.rawValue).tty
        let outcome = try await publishLog(follow: true, tty: tty)
        guard case .containerStopped = outcome else { return outcome }
        // Docker ends a live follow as the container exits, before it reads the container's
        // last output when that has no newline (a TTY's last prompt, say). One read of the
        // finished log from the saved position publishes what the follow missed.
        return try await publishLog(follow: false, tty: tty)
    }

    /// Publishes the log from the saved position (or its last `historySize` lines) until it ends.
    private func publishLog(follow: Bool, tty: Bool) async throws -> Outcome {
        let saved = try await publisher.loadPosition(of: container)
        let start = saved ?? .fresh(epoch: StreamPublisher.makeEpoch())
        logger.debug("reading", metadata: ["container": "\(container)", "follow": "\(follow)", "seq": "\(start.seq)", "epoch": "\(start.epoch)"])
        return try await docker.withLogs(
            id: container.rawValue,
            follow: follow,
            since: saved?.newestTimestamp?.sinceQueryValue,
            tail: saved?.newestTimestamp == nil ? publisher.historySize : nil
        ) { body in
            let pending = PendingLines()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await publish(from: pending) }
                let outcome: Outcome
                do {
                    outcome = try await read(body, tty: tty, from: start, into: pending)
                    await pending.finish()
                } catch {
                    await pending.finish()
                    throw error
                }
                try await group.waitForAll()
                return outcome
            }
        }
    }

    private func read(_ body: DockerByteStream, tty: Bool, from start: StreamPosition, into pending: PendingLines) async throws -> Outcome {
        var decoder = DockerLogDecoder(tty: tty)
        var filter = ResumeFilter(resumingAt: start)
        var position = start
        var records: [DockerLogRecord] = []
        let template = LogLineFrame.Template(epoch: start.epoch, agentId: publisher.agentID.rawValue, containerId: container.rawValue)

        // Each frame is made in `frame`, whose storage is reused, then copied into its group.
        var frame: [UInt8] = []
        func encodeNew(_ records: [DockerLogRecord]) -> [EncodedLines] {
            var groups: [EncodedLines] = []
            var frames = RedisBulkArguments()
            for record in records where filter.isNew(record) {
                position.advance(past: record.timestamp)
                frame.removeAll(keepingCapacity: true)
                record.timestamp.withTextBytes { timestamp in
                    template.encode(seq: position.seq, timestamp: timestamp, stream: record.stream.rawValue, message: record.message, into: &frame)
                }
                frames.append(frame)
                if frames.count == Self.maxBatchLines {
                    groups.append(EncodedLines(frames: frames, position: position))
                    frames = RedisBulkArguments()
                }
            }
            if frames.count > 0 { groups.append(EncodedLines(frames: frames, position: position)) }
            return groups
        }

        for try await var chunk in body {
            records.removeAll(keepingCapacity: true)
            try decoder.decode(&chunk, into: &records)
            let groups = encodeNew(records)
            if !groups.isEmpty { await pending.append(groups) }
        }

        // Docker ends a followed log when the container stops, and a dropped connection looks
        // the same (the body lasts until the connection closes). Only a stopped container's
        // unfinished last line is whole: otherwise the next follow reads that line again.
        let after = try await docker.inspect(container.rawValue)
        guard !after.running else { return .interrupted }
        let last = encodeNew(try decoder.finish())
        if !last.isEmpty { await pending.append(last) }
        return .containerStopped(reason: "container \(after.state)")
    }

    /// Writes batches until the reader is done; a failed batch is retried, never skipped.
    private func publish(from pending: PendingLines) async throws {
        var failures = 0
        var nextBatchStart = ContinuousClock.now
        while true {
            if nextBatchStart > .now { try await Task.sleep(until: nextBatchStart, clock: .continuous) }
            guard let batch = await pending.nextBatch(maxLines: Self.maxBatchLines) else { return }
            nextBatchStart = .now + BatchPacing.pause(afterBatchOf: batch.frames.count, maxBatchLines: Self.maxBatchLines)
            while true {
                do {
                    try await publisher.append(batch.frames, upTo: batch.position, of: container)
                    failures = 0
                    break
                } catch {
                    try Task.checkCancellation()
                    if failures == 0 {
                        logger.warning("cannot write log lines to Redis, retrying", metadata: ["container": "\(container)", "error": "\(error)"])
                    }
                    try await Task.sleep(for: Backoff().delay(attempt: failures))
                    failures += 1
                }
            }
        }
    }
}
