import DequeModule
import Shared

/// Log lines encoded for Redis: their `log.line` frames as script arguments,
/// and the stream position just after the last of them.
struct EncodedLines: Sendable {
    var frames: RedisBulkArguments
    var position: StreamPosition
}

/// Lines decoded from Docker but not yet in Redis, between a stream's reader and its publisher.
///
/// Decoupling the two lets the reader keep decoding while a batch is in
/// flight, so under load each Redis round trip carries many lines. The buffer
/// is bounded: when Redis is slow or down the reader waits, and Docker keeps
/// the lines in its log file meanwhile.
actor PendingLines {
    /// As the reader appended them, oldest first; batches are cut between groups.
    private var groups: Deque<EncodedLines> = []
    private var bytes = 0
    private var isFinished = false
    private let byteLimit: Int
    private var waitingPublisher: CheckedContinuation<Void, Never>?
    private var waitingReader: CheckedContinuation<Void, Never>?

    init(byteLimit: Int = 8 << 20) {
        self.byteLimit = byteLimit
    }

    /// Adds lines; waits while the buffer is full.
    func append(_ newGroups: [EncodedLines]) async {
        for group in newGroups {
            groups.append(group)
            bytes += group.frames.encoded.count
        }
        waitingPublisher?.resume()
        waitingPublisher = nil
        while bytes > byteLimit, !isFinished {
            await withCheckedContinuation { waitingReader = $0 }
        }
    }

    /// The reader is done; the publisher drains what is left.
    func finish() {
        isFinished = true
        waitingPublisher?.resume()
        waitingPublisher = nil
        waitingReader?.resume()
        waitingReader = nil
    }

    /// The oldest groups, merged while they hold at most `maxLines` lines together
    /// (a single group may hold more); `nil` once finished and drained.
    func nextBatch(maxLines: Int) async -> EncodedLines? {
        while groups.isEmpty {
            if isFinished { return nil }
            await withCheckedContinuation { waitingPublisher = $0 }
        }
        var batch = groups.removeFirst()
        while let next = groups.first, batch.frames.count + next.frames.count <= maxLines {
            batch.frames.append(contentsOf: next.frames)
            batch.position = next.position
            groups.removeFirst()
        }
        bytes -= batch.frames.encoded.count
        waitingReader?.resume()
        waitingReader = nil
        return batch
    }
}
