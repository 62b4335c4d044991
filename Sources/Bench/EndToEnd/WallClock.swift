import Glibc

/// Real time in nanoseconds since 1970 (CLOCK_REALTIME), the clock Docker stamps log lines
/// with: a line's latency is the receipt time on this clock minus its `timestamp`.
enum WallClock {
    static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// The lines a measurement counts: those Docker stamped within [start, end). Lines
/// before it (history, the agent's catch-up at attach) and after it are not timed.
struct MeasureWindow: Sendable {
    var start: Int64
    var end: Int64

    /// A window opening now and lasting `duration`.
    static func starting(now duration: Duration) -> MeasureWindow {
        let start = WallClock.nanoseconds()
        return MeasureWindow(start: start, end: start + Int64(duration.seconds * 1e9))
    }

    func contains(_ timestamp: Int64) -> Bool { timestamp >= start && timestamp < end }
    var seconds: Double { Double(end - start) / 1e9 }
}
