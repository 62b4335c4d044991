/// Percentiles of latency samples (µs), reported in milliseconds.
struct LatencyPercentiles: Sendable {
    var count: Int
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double

    init?(microseconds samples: [Int32]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func at(_ quantile: Double) -> Double {
            Double(sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * quantile).rounded(.down)))]) / 1000
        }
        count = sorted.count
        p50 = at(0.5)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted[sorted.count - 1]) / 1000
    }
}

extension NumberFormat {
    /// Milliseconds with enough digits for sub-millisecond latencies: `0.84 ms`, `12.3 ms`.
    static func milliseconds(_ value: Double) -> String {
        (value < 10 ? fixed(value, digits: 2) : fixed(value, digits: 1)) + " ms"
    }
}
