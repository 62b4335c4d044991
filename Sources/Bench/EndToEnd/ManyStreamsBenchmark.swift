import ArgumentParser

/// `tailgate-bench e2e-streams`: many containers at a modest rate, one client each.
struct ManyStreamsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-streams",
        abstract: "Many streams at once (100 containers × 100 lines/s), one client each."
    )

    @OptionGroup var options: EndToEndOptions

    @Option(help: "Containers (default 100, 10 with --quick)")
    var containers: Int?

    @Option(help: "Lines per second each container prints")
    var rate = 100

    @Option(help: "Seconds measured per run (default 10, 3 with --quick)")
    var seconds: Int?

    func run() async throws {
        let containerCount = containers ?? options.scaled(100, quick: 10)
        let duration = Duration.seconds(seconds ?? options.scaled(10, quick: 3))
        let rate = self.rate
        let runs = options.runCount
        let results = try await EndToEndStack.with(options) { stack in
            progressNote("e2e-streams: starting \(containerCount) containers")
            // A 10 ms tick: 100 shells waking every 2 ms would cost more than the product.
            let ids = try await stack.startContainers(containerCount, script: PacedLogScript.paced(linesPerSecond: rate, tickMilliseconds: 10))
            var results: [LiveMeasurement] = []
            for run in 1...runs {
                progressNote("e2e-streams run \(run)/\(runs): \(containerCount) streams × \(rate) lines/s, 1 client each")
                let client = try await LoadClient.open(stack.subscriptions(containerCount, over: ids), to: stack.gateway)
                try await Task.sleep(for: .seconds(3))
                let measured = try await LiveMeasurement.run(client, on: stack, for: duration)
                if let error = client.firstUnexpectedError { progressNote("  a client got: \(error)") }
                await client.close()
                progressNote("  " + LiveLoadTable.summaryFigure([measured]))
                results.append(measured)
            }
            return results
        }
        let expected = Double(containerCount * rate)
        var table = LiveLoadTable()
        table.add("\(containerCount) streams × \(rate) lines/s, 1 client each", results, expectedPerSecond: expected)
        print(
            """
            ### Many streams: \(containerCount) containers × \(rate) lines/s, one client each

            Containers started 4 at a time (`--network none`); each client subscribes to its own stream \
            (`batch: true`, `tail: 0`); measured for \(seconds ?? options.scaled(10, quick: 3)) s after a 3 s warm-up, plus 2 s for \
            late lines; \(runs) run\(runs == 1 ? "" : "s"); median (min–max).

            \(table.rendered())

            """)
        try options.summary.append([
            SummaryRow(
                scenario: "Many streams, \(containerCount) × \(rate) lines/s, 1 client each",
                figure: LiveLoadTable.summaryFigure(results),
                ceiling: "printed: \(NumberFormat.grouped(expected)) lines/s",
                ratio: NumberFormat.ratio(Spread(results.map(\.deliveriesPerSecond)).median / expected)
            )
        ])
    }
}
