/// Where a stream stands in its container's log: enough to resume it after a
/// restart (of the agent, Docker or the container) with no line twice or lost.
///
/// Docker's `since` is inclusive and several lines can share one timestamp, so
/// the position is the newest timestamp published plus how many lines with
/// exactly that timestamp were published. Resuming asks Docker for lines since
/// that timestamp and skips that many of them.
struct StreamPosition: Sendable, Equatable {
    /// `seq` of the last published line (0 before the first).
    var seq: Int
    /// Identifies this history; a new one means clients cannot resume across it.
    var epoch: String
    /// The newest timestamp published, or `nil` before the first line.
    var newestTimestamp: DockerTimestamp?
    /// How many published lines carry exactly `newestTimestamp`.
    var linesAtNewestTimestamp: Int

    static func fresh(epoch: String) -> StreamPosition {
        StreamPosition(seq: 0, epoch: epoch, newestTimestamp: nil, linesAtNewestTimestamp: 0)
    }

    /// Records one more published line.
    mutating func advance(past timestamp: DockerTimestamp) {
        seq += 1
        if let newest = newestTimestamp, timestamp <= newest {
            // Docker orders stdout against stderr only to the millisecond: an
            // older stamp arriving late does not move the position back.
            if timestamp == newest { linesAtNewestTimestamp += 1 }
        } else {
            newestTimestamp = timestamp
            linesAtNewestTimestamp = 1
        }
    }
}

/// Drops the lines a resumed Docker log repeats from before the position.
struct ResumeFilter: Sendable {
    private let newestTimestamp: DockerTimestamp?
    private var repeatsLeft: Int

    init(resumingAt position: StreamPosition) {
        newestTimestamp = position.newestTimestamp
        repeatsLeft = position.linesAtNewestTimestamp
    }

    /// Whether `record` is new, i.e. not published before the resume.
    mutating func isNew(_ record: DockerLogRecord) -> Bool {
        guard let newest = newestTimestamp else { return true }
        if record.timestamp < newest { return false }
        if record.timestamp == newest, repeatsLeft > 0 {
            repeatsLeft -= 1
            return false
        }
        return true
    }
}
