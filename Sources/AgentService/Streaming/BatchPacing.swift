/// How long a stream's publisher waits before its next Redis batch, from the size of the last one.
///
/// Every batch has a fixed cost: for the agent a round trip, for Redis the
/// transaction, meta, trim and expiry, and one socket write per gateway. Redis spent
/// about a third less CPU per line on batches of 500 lines than of 100. So a busy stream waits
/// and lets lines pile up; the busier it is, the longer it may wait, because a line
/// among thousands a second is not watched for its milliseconds. A stream at the
/// latency goal's 1,000 lines/s waits at most `busyPause`.
enum BatchPacing {
    /// The pause after a batch of several lines: a busy stream.
    static let busyPause: Duration = .milliseconds(1)
    /// The pause after a batch of at least `floodLines`: tens of thousands of lines a second.
    static let floodPause: Duration = .milliseconds(4)
    /// At `busyPause` apart, batches this large mean ≥ 64,000 lines/s; at `floodPause`
    /// apart they stay this large down to 16,000 lines/s, so the pause does not flap.
    static let floodLines = 64

    /// - Parameter lines: how many lines the last batch held.
    /// - Parameter maxBatchLines: the most a batch may hold.
    static func pause(afterBatchOf lines: Int, maxBatchLines: Int) -> Duration {
        switch lines {
        case ...1, maxBatchLines...:
            // A quiet stream's lone line goes out at once, and so does a backlog:
            // the next batch is already full.
            .zero
        case ..<floodLines:
            busyPause
        default:
            floodPause
        }
    }
}
