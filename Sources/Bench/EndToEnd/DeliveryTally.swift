/// Counters of what load-client connections received. They only grow, so a snapshot
/// before and after a measurement gives its share by subtraction.
struct DeliveryCounts: Sendable {
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

    /// Lines that did not arrive, announced or not.
    var lost: Int { gappedLines + unannouncedMissing }

    static func + (left: DeliveryCounts, right: DeliveryCounts) -> DeliveryCounts { left.combined(with: right, by: +) }
    static func - (left: DeliveryCounts, right: DeliveryCounts) -> DeliveryCounts { left.combined(with: right, by: -) }

    private func combined(with other: DeliveryCounts, by operation: (Int, Int) -> Int) -> DeliveryCounts {
        DeliveryCounts(
            lines: operation(lines, other.lines), historyLines: operation(historyLines, other.historyLines),
            duplicates: operation(duplicates, other.duplicates), gappedLines: operation(gappedLines, other.gappedLines),
            gapFrames: operation(gapFrames, other.gapFrames), unannouncedMissing: operation(unannouncedMissing, other.unannouncedMissing)
        )
    }
}

/// What one load-client connection received: its counts, when, and how late.
struct DeliveryTally: Sendable {
    var counts = DeliveryCounts()
    /// Receipt times (ns since 1970) of the first and the latest live line.
    var firstReceipt: Int64?
    var lastReceipt: Int64 = 0
    /// Latency in µs of every live line Docker stamped inside the measure window.
    var latencies: [Int32] = []
    /// The `seq` of the first live line (lines before it came as history or not at all).
    var firstSeq: Int?
    var lastSeq: Int?

    mutating func received(liveSeq seq: Int, timestamp: Int64, at receipt: Int64, window: MeasureWindow?) {
        counts.lines += 1
        if firstReceipt == nil {
            firstReceipt = receipt
            firstSeq = seq
        }
        lastReceipt = receipt
        if let last = lastSeq {
            if seq <= last {
                counts.duplicates += 1
                return
            }
            counts.unannouncedMissing += seq - last - 1
        }
        lastSeq = seq
        if let window, window.contains(timestamp) {
            latencies.append(Int32(clamping: (receipt - timestamp) / 1000))
        }
    }

    /// A history frame: live lines continue after its last line.
    mutating func receivedHistory(lineCount: Int, lastSeq: Int?) {
        counts.historyLines += lineCount
        if let lastSeq { self.lastSeq = lastSeq }
    }

    mutating func receivedGap(from: Int, to: Int) {
        counts.gapFrames += 1
        counts.gappedLines += to - from + 1
        lastSeq = max(lastSeq ?? to, to)
    }

    /// The tally without the latency samples (cheap to copy while lines flow).
    var withoutLatencies: DeliveryTally {
        var copy = self
        copy.latencies = []
        return copy
    }
}
