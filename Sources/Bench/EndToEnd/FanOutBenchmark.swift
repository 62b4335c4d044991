import ArgumentParser

/// `tailgate-bench e2e-fanout`: one stream at a fixed rate to 1, 10, 100, 500 clients.
struct FanOutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-fanout",
        abstract: "One stream at a fixed rate to many clients: deliveries/s, latency, drops, gateway CPU."
    )

    @OptionGroup var options: EndToEndOptions

    @Option(help: "Lines per second the container prints")
    var rate = 1000

    @Option(help: "Client counts, comma separated (default 1,10,100,500; 1,10,50 with --quick)")
    var clients: String?

    @Option(help: "Seconds measured per load and run (default 10, 3 with --quick)")
    var seconds: Int?

    func run() async throws {
        let counts = try (clients ?? options.scaled("1,10,100,500", quick: "1,10,50")).split(separator: ",").map { part in
            guard let count = Int(part), count > 0 else { throw ValidationError("--clients: '\(part)' is not a positive number") }
            return count
        }
        let duration = Duration.seconds(seconds ?? options.scaled(10, quick: 3))
        let rate = self.rate
        let runs = options.runCount
        let results = try await EndToEndStack.with(options) { stack in
            let container = try await stack.startContainers(1, script: PacedLogScript.paced(linesPerSecond: rate, tickMilliseconds: 2))[0]
            var results = [Int: [LiveMeasurement]]()
            // Loads interleaved run by run, so drift on the machine hits all alike.
            for run in 1...runs {
                for count in counts {
                    progressNote("e2e-fanout run \(run)/\(runs): \(count) clients × \(rate) lines/s")
                    let client = try await LoadClient.open(stack.subscriptions(count, over: [container]), to: stack.gateway)
                    try await Task.sleep(for: .seconds(3))
                    let measured = try await LiveMeasurement.run(client, on: stack, for: duration)
                    if let error = client.firstUnexpectedError { progressNote("  a client got: \(error)") }
                    await client.close()
                    progressNote("  " + LiveLoadTable.summaryFigure([measured]))
                    results[count, default: []].append(measured)
                }
            }
            return results
        }
        var table = LiveLoadTable()
        for count in counts {
            table.add("\(count) client\(count == 1 ? "" : "s")", results[count]!, expectedPerSecond: Double(rate * count))
        }
        print(
            """
            ### Fan-out: one stream, \(NumberFormat.grouped(Double(rate))) lines/s, to many clients

            Every client subscribes to the same container (`batch: true`, `tail: 0`); measured for \
            \(seconds ?? options.scaled(10, quick: 3)) s after a 3 s warm-up, plus 2 s for late lines; \(runs) run\(runs == 1 ? "" : "s"), \
            loads interleaved; median (min–max); losses and duplicates per run. CPU: share of one core over the measurement.

            \(table.rendered())

            """)
        try options.summary.append(
            counts.map { count in
                SummaryRow(
                    scenario: "Fan-out, 1 stream × \(NumberFormat.grouped(Double(rate))) lines/s → \(count) client\(count == 1 ? "" : "s")",
                    figure: LiveLoadTable.summaryFigure(results[count]!),
                    ceiling: "printed: \(NumberFormat.grouped(Double(rate * count))) deliveries/s",
                    ratio: NumberFormat.ratio(Spread(results[count]!.map(\.deliveriesPerSecond)).median / Double(rate * count)),
                    goal: count == 100 ? "0 lost, p99 < 20 ms" : "—"
                )
            })
    }
}
