/// The table fan-out and many-streams share: per load, deliveries against what the
/// containers printed, latency, losses and what the gateway and agent paid.
struct LiveLoadTable {
    private var table = MarkdownTable(
        "load", "deliveries/s", "of expected", "p50", "p99", "max", "lines lost (log.gap / unannounced)", "duplicates",
        "gateway CPU s per 1M deliveries", "gateway CPU", "agent CPU", "load client CPU"
    )

    /// One load over its runs; `expectedPerSecond` = lines printed per second × clients watching them.
    mutating func add(_ label: String, _ runs: [LiveMeasurement], expectedPerSecond: Double) {
        let deliveries = Spread(runs.map(\.deliveriesPerSecond))
        let latencies = runs.compactMap(\.latency)
        func latency(_ value: (LatencyPercentiles) -> Double) -> String {
            latencies.isEmpty ? "—" : Spread(latencies.map(value)).formatted(NumberFormat.milliseconds)
        }
        func share(_ seconds: (LiveMeasurement) -> Double) -> String {
            NumberFormat.fixed(Spread(runs.map { seconds($0) / $0.countedSeconds }).median * 100, digits: 0) + " %"
        }
        table.add(
            label, deliveries.formatted(NumberFormat.grouped), NumberFormat.ratio(deliveries.median / expectedPerSecond),
            latency(\.p50), latency(\.p99), latency(\.max),
            runs.map { "\($0.counts.lost) (\($0.counts.gappedLines) / \($0.counts.unannouncedMissing))" }.joined(separator: ", "),
            runs.map { String($0.counts.duplicates) }.joined(separator: ", "),
            NumberFormat.fixed(Spread(runs.map(\.gatewayCPUPerMillion)).median, digits: 1),
            share(\.gatewayCPUSeconds), share(\.agentCPUSeconds), share(\.clientCPUSeconds)
        )
    }

    func rendered() -> String { table.rendered() }

    /// `p99 X ms, N lost`, the summary's figure for a load.
    static func summaryFigure(_ runs: [LiveMeasurement]) -> String {
        let deliveries = Spread(runs.map(\.deliveriesPerSecond)).formatted(NumberFormat.grouped)
        let p99 = runs.compactMap(\.latency?.p99)
        let lost = runs.map(\.counts.lost).reduce(0, +)
        return "\(deliveries) deliveries/s, p99 " + (p99.isEmpty ? "—" : Spread(p99).formatted(NumberFormat.milliseconds)) + ", \(lost) lost"
    }
}
