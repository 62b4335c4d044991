/// A stream's history as read from Redis: its lines oldest first, and the
/// stream's current epoch and last seq from `tailgate:meta:S`.
///
/// Pure: decides which lines a subscribe, a resume or a recovery after a
/// Redis outage gets.
struct HistoryWindow: Sendable {
    /// `log.line` frames, oldest first (other entries are left out).
    let lines: [StreamFrame]
    /// Empty while the stream has no epoch yet.
    let epoch: Epoch
    let latestSeq: Int

    /// What `log.history` carries, and whether it is `complete`.
    struct Selection {
        var lines: ArraySlice<StreamFrame>
        var complete: Bool
    }

    /// Lines that come after a position the client already has.
    struct Continuation {
        var lines: ArraySlice<StreamFrame>
        /// Seqs of the position's epoch that are no longer in the history.
        var missing: ClosedRange<Int>?
        /// Whether `lines` continue the position exactly.
        var isExact: Bool
    }

    /// The newest position the history accounts for: its last line, else the stream's meta.
    var end: LinePosition? {
        if let last = lines.last?.position { return last }
        return epoch.isEmpty ? nil : LinePosition(epoch: epoch, seq: latestSeq)
    }

    /// History for a subscribe: the last `tail` lines, or, for a resume, the
    /// lines after `sinceSeq` when they can be given exactly.
    func selection(tail: Int, resume: (sinceSeq: Int, epoch: String)?) -> Selection {
        guard let resume else { return Selection(lines: lines.suffix(tail), complete: true) }
        let continuation = lines(after: LinePosition(epoch: Epoch(resume.epoch), seq: resume.sinceSeq))
        guard continuation.isExact, continuation.lines.count <= tail else {
            return Selection(lines: lines.suffix(tail), complete: false)
        }
        return Selection(lines: continuation.lines, complete: true)
    }

    func lines(after position: LinePosition) -> Continuation {
        guard position.epoch == epoch else {
            // A new epoch: the old seqs mean nothing any more.
            return Continuation(lines: lines[...], missing: nil, isExact: false)
        }
        let newer = lines.drop { !($0.position?.follows(position) ?? false) }
        let newest = max(latestSeq, lines.last?.position?.seq ?? 0)
        guard position.seq <= newest else {
            return Continuation(lines: newer, missing: nil, isExact: false)
        }
        let firstKept = newer.first?.position?.seq ?? newest + 1
        guard firstKept > position.seq + 1 else {
            return Continuation(lines: newer, missing: nil, isExact: true)
        }
        return Continuation(lines: newer, missing: (position.seq + 1)...(firstKept - 1), isExact: false)
    }
}
