import ArgumentParser

/// `tailgate-bench e2e-latency`: how late lines reach WebSocket clients, Docker timestamp
/// to receipt, beside the same lines read straight from the Docker API at the same time.
struct LatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-latency",
        abstract: "Latency Docker → agent → Redis → gateway → client vs a raw Docker API follower."
    )

    @OptionGroup var options: EndToEndOptions

    @Option(help: "Lines per second the container prints")
    var rate = 1000

    @Option(help: "WebSocket clients on the stream")
    var clients = 10

    @Option(help: "Seconds measured per run (default 15, 4 with --quick)")
    var seconds: Int?

    func run() async throws {
        let duration = Duration.seconds(seconds ?? options.scaled(15, quick: 4))
        let rate = self.rate
        let clients = self.clients
        let runs = options.runCount
        let results = try await EndToEndStack.with(options) { stack in
            let container = try await stack.startContainers(1, script: PacedLogScript.paced(linesPerSecond: rate, tickMilliseconds: 2))[0]
            guard let socketPath = stack.docker.socketPath else { throw BenchError("--docker-host must be unix://") }
            var results: [(client: LiveMeasurement, raw: LatencyPercentiles)] = []
            for run in 1...runs {
                progressNote("e2e-latency run \(run)/\(runs): \(clients) clients, \(rate) lines/s")
                let client = try await LoadClient.open(stack.subscriptions(clients, over: [container]), to: stack.gateway)
                try await Task.sleep(for: .seconds(3))  // past the agent's catch-up at attach
                let (measured, raw) = try await LiveMeasurement.run(client, on: stack, for: duration) { window in
                    try await DockerLogFollower.follow(socketPath: socketPath, container: container, window: window, grace: .seconds(1))
                }
                await client.close()
                guard let rawLatency = LatencyPercentiles(microseconds: raw.latencies), measured.latency != nil else {
                    throw BenchError("no lines were timed; is the container printing?")
                }
                progressNote("  p99 \(NumberFormat.milliseconds(measured.latency!.p99)) vs raw \(NumberFormat.milliseconds(rawLatency.p99)), lost \(measured.counts.lost)")
                results.append((measured, rawLatency))
            }
            return results
        }
        print(report(results))
        try options.summary.append(summaryRows(results))
    }

    private func report(_ results: [(client: LiveMeasurement, raw: LatencyPercentiles)]) -> String {
        var table = MarkdownTable("reader", "p50", "p99", "p99.9", "max", "lines timed per run", "lines lost")
        func row(_ label: String, _ percentiles: [LatencyPercentiles], lost: String) {
            func spread(_ value: (LatencyPercentiles) -> Double) -> String { Spread(percentiles.map(value)).formatted(NumberFormat.milliseconds) }
            table.add(
                label, spread(\.p50), spread(\.p99), spread(\.p999), spread(\.max),
                Spread(percentiles.map { Double($0.count) }).formatted(NumberFormat.grouped), lost
            )
        }
        let clientLatencies = results.compactMap(\.client.latency)
        row("raw Docker API follower (`follow=1&timestamps=1`)", results.map(\.raw), lost: "—")
        row("\(clients) WebSocket clients via agent, Redis, gateway", clientLatencies, lost: NumberFormat.grouped(Double(results.map(\.client.counts.lost).reduce(0, +))))
        let added = zip(clientLatencies, results.map(\.raw)).map { ($0.p50 - $1.p50, $0.p99 - $1.p99, $0.p999 - $1.p999) }
        return """
            ### Latency: Docker timestamp → receipt

            A container prints \(rate) lines/s (busybox, one `echo` per line); \(clients) clients subscribe \
            (`batch: true`, `tail: 0`) and, at the same time, a raw reader follows the same log on the Docker API \
            socket. Latency = receipt wall-clock time − the line's Docker `timestamp` (same machine, same clock). \
            \(results.count) run\(results.count == 1 ? "" : "s") of \(seconds ?? options.scaled(15, quick: 4)) s; median (min–max) of the runs' percentiles.

            \(table.rendered())

            Added by agent + Redis + gateway (client − raw, per run): p50 \(Spread(added.map(\.0)).formatted(NumberFormat.milliseconds)), \
            p99 \(Spread(added.map(\.1)).formatted(NumberFormat.milliseconds)), p99.9 \(Spread(added.map(\.2)).formatted(NumberFormat.milliseconds)).

            """
    }

    private func summaryRows(_ results: [(client: LiveMeasurement, raw: LatencyPercentiles)]) -> [SummaryRow] {
        let client = Spread(results.compactMap { $0.client.latency?.p99 })
        let raw = Spread(results.map(\.raw.p99))
        func added(_ percentile: KeyPath<LatencyPercentiles, Double>) -> String {
            Spread(results.compactMap { result in result.client.latency.map { $0[keyPath: percentile] - result.raw[keyPath: percentile] } })
                .formatted(NumberFormat.milliseconds)
        }
        return [
            SummaryRow(
                scenario: "Latency p99, \(NumberFormat.grouped(Double(rate))) lines/s, \(clients) clients",
                figure: client.formatted(NumberFormat.milliseconds) + "; added over raw: p99 " + added(\.p99) + ", p50 " + added(\.p50),
                ceiling: "raw Docker API follower p99: " + raw.formatted(NumberFormat.milliseconds),
                ratio: NumberFormat.ratio(client.median / raw.median), goal: "added p99 < 5 ms"
            )
        ]
    }
}
