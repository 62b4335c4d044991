/// Lines decoded from Docker but not yet in Redis, between a stream's reader and its publisher.
///
/// Decoupling the two lets the reader keep decoding while a batch is in
/// flight, so under load each Redis round trip carries many lines. The buffer
/// is bounded: when Redis is slow or down the reader waits, and Docker keeps
/// the lines in its log file meanwhile.
actor PendingLines {
    /// Each frame with the stream position just after it, so any prefix can be saved as a batch.
    private var lines: [(frame: [UInt8], position: StreamPosition)] = []
    private var bytes = 0
    private var isFinished = false
    private let byteLimit: Int
    private var waitingPublisher: CheckedContinuation<Void, Never>?
    private var waitingReader: CheckedContinuation<Void, Never>?

    init(byteLimit: Int = 8 << 20) {
        self.byteLimit = byteLimit
    }

    /// Adds lines; waits while the buffer is full.
    func append(_ newLines: [(frame: [UInt8], position: StreamPosition)]) async {
        lines.append(contentsOf: newLines)
        bytes += newLines.reduce(0) { $0 + $1.frame.count }
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

    /// Up to `maxLines` frames and the position after them; `nil` once finished and drained.
    func nextBatch(maxLines: Int) async -> (frames: [[UInt8]], position: StreamPosition)? {
        while lines.isEmpty {
            if isFinished { return nil }
            await withCheckedContinuation { waitingPublisher = $0 }
        }
        let count = min(maxLines, lines.count)
        // Copy the batch out before removing it: a slice kept alive across
        // `removeFirst` would make it copy the whole backlog.
        let frames = lines[..<count].map(\.frame)
        let position = lines[count - 1].position
        lines.removeFirst(count)
        bytes -= frames.reduce(0) { $0 + $1.count }
        waitingReader?.resume()
        waitingReader = nil
        return (frames, position)
    }
}
