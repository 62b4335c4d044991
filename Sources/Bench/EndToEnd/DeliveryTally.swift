/// What one load-client connection received: live lines, their latencies, and every
/// way the sequence went wrong. Counters only grow, so a snapshot before and after
/// a measurement gives its share by subtraction.
struct DeliveryTally: Sendable {
    /// Live lines (`log.line`, `log.lines`), not history.
    var lines = 0
    var historyLines = 0
    /// Lines with a `seq` at or below one already received.
    var duplicates = 0
    /// Lines the gateway said it dropped (`log.gap` ranges).
    var gappedLines = 0
    var gapFrames = 0
    /// Lines skipped by a `seq` jump that no `log.gap` announced: lost without notice.
    var unannouncedMissing = 0
    /// Receipt times (ns since 1970) of the first and the latest live line.
    var firstReceipt: Int64?
    var lastReceipt: Int64 = 0
    /// Latency in µs of every live line Docker stamped inside the measure window.
    var latencies: [Int32] = []
    var lastSeq: Int?

    mutating func received(liveSeq seq: Int, timestamp: Int64, at receipt: Int64, window: MeasureWindow?) {
        lines += 1
        if firstReceipt == nil { firstReceipt = receipt }
        lastReceipt = receipt
        if let last = lastSeq {
            if seq <= last {
                duplicates += 1
                return
            }
            unannouncedMissing += seq - last - 1
        }
        lastSeq = seq
        if let window, window.contains(timestamp) {
            latencies.append(Int32(clamping: (receipt - timestamp) / 1000))
        }
    }

    /// A history frame: live lines continue after its last line.
    mutating func receivedHistory(lineCount: Int, lastSeq: Int?) {
        historyLines += lineCount
        if let lastSeq { self.lastSeq = lastSeq }
    }

    mutating func receivedGap(from: Int, to: Int) {
        gapFrames += 1
        gappedLines += to - from + 1
        lastSeq = max(lastSeq ?? to, to)
    }

    /// The counters without the latency samples (cheap to copy while lines flow).
    var counters: DeliveryTally {
        var copy = self
        copy.latencies = []
        return copy
    }
}

/// Counters summed over many connections, and the difference between two such sums.
struct DeliveryCounts: Sendable {
    var lines = 0
    var duplicates = 0
    var gappedLines = 0
    var gapFrames = 0
    var unannouncedMissing = 0

    init() {}

    init(summing tallies: [DeliveryTally]) {
        for tally in tallies {
            lines += tally.lines
            duplicates += tally.duplicates
            gappedLines += tally.gappedLines
            gapFrames += tally.gapFrames
            unannouncedMissing += tally.unannouncedMissing
        }
    }

    static func - (after: DeliveryCounts, before: DeliveryCounts) -> DeliveryCounts {
        var difference = DeliveryCounts()
        difference.lines = after.lines - before.lines
        difference.duplicates = after.duplicates - before.duplicates
        difference.gappedLines = after.gappedLines - before.gappedLines
        difference.gapFrames = after.gapFrames - before.gapFrames
        difference.unannouncedMissing = after.unannouncedMissing - before.unannouncedMissing
        return difference
    }

    /// Lines that did not arrive, announced or not.
    var lost: Int { gappedLines + unannouncedMissing }
}
