import ArgumentParser
import Logging
import Shared

/// `tailgate-bench e2e-connections`: thousands of subscribed WebSockets on one gateway
/// (memory per connection, time to open them), then how fast a subscribe gets a full
/// 1000-line history while they are open.
struct ConnectionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-connections",
        abstract: "10,000 subscribed WebSockets on one gateway: RSS per connection, connect time; subscribe → history latency."
    )

    @OptionGroup var options: EndToEndOptions

    @Option(help: "WebSocket connections (default 10000, 500 with --quick)")
    var connections: Int?

    @Option(help: "Streams they are spread over (default 100, 10 with --quick)")
    var streams: Int?

    @Option(name: .customLong("history-samples"), help: "Subscribes timed for the history figure (default 200, 30 with --quick)")
    var historySamples: Int?

    static let historyLines = 1000

    struct Result: Sendable {
        var openingSeconds: Double
        var residentKiBPerConnection: Double
        var residentBeforeKiB: Double
        /// Subscribe → history while every connection is open (each stream already watched
        /// on this gateway), and again after they closed (each subscribe then takes the
        /// stream's first reference: `ZADD` of the lease and `log.stream.start` to the agent).
        var historyWatched: LatencyPercentiles
        var historyUnwatched: LatencyPercentiles
    }

    func run() async throws {
        let connectionCount = connections ?? options.scaled(10_000, quick: 500)
        let streamCount = streams ?? options.scaled(100, quick: 10)
        let samples = historySamples ?? options.scaled(200, quick: 30)
        let runs = options.runCount
        // Before any gateway starts: it inherits the limit, and needs a descriptor per connection too.
        try OpenFileLimit.raise(to: connectionCount + 256)
        let results = try await EndToEndStack.with(options) { stack in
            progressNote("e2e-connections: starting \(streamCount) idle containers of \(Self.historyLines) lines")
            let ids = try await stack.startContainers(streamCount, script: PacedLogScript.idle(lines: Self.historyLines))
            var results: [Result] = []
            for run in 1...runs {
                progressNote("e2e-connections run \(run)/\(runs): \(connectionCount) connections over \(streamCount) streams")
                // A fresh gateway per run: memory a run freed stays in the allocator and would hide the next run's.
                let gateway = try await GatewayUnderTest.start(executable: options.gateway, redisURL: options.stack.redis, logDirectory: stack.logDirectory)
                do {
                    results.append(try await measure(on: gateway, stack: stack, streams: ids, connections: connectionCount, samples: samples))
                    await gateway.stop()
                } catch {
                    await gateway.stop()
                    throw error
                }
                let result = results[results.count - 1]
                progressNote(
                    "  opened in \(NumberFormat.fixed(result.openingSeconds, digits: 1)) s, \(NumberFormat.fixed(result.residentKiBPerConnection, digits: 1)) KiB each; history p99 \(NumberFormat.milliseconds(result.historyWatched.p99)) watched, \(NumberFormat.milliseconds(result.historyUnwatched.p99)) unwatched"
                )
            }
            return results
        }
        print(report(results, connections: connectionCount, streams: streamCount, samples: samples))
        try options.summary.append(summaryRows(results, connections: connectionCount))
    }

    private func measure(on gateway: GatewayUnderTest, stack: EndToEndStack, streams: [String], connections: Int, samples: Int) async throws -> Result {
        try await Task.sleep(for: .seconds(1))
        let before = gateway.residentKiB ?? 0
        let client = try await LoadClient.open(stack.subscriptions(connections, over: streams), to: gateway, concurrency: 64)
        try await Task.sleep(for: .seconds(2))
        let after = gateway.residentKiB ?? before
        // The first run's subscribes made the agent fill every history; wait for it before timing reads of them.
        try await stack.waitForSeq(Self.historyLines, on: streams)
        let agent = stack.agent.agentID.rawValue
        let watched = try await timeHistory(on: gateway, agent: agent, streams: streams, samples: samples)
        await client.close()
        // Closing 10,000 connections keeps the gateway busy for a while (each releases its subscription).
        try await Task.sleep(for: .seconds(5))
        let unwatched = try await timeHistory(on: gateway, agent: agent, streams: streams, samples: samples)
        return Result(
            openingSeconds: client.openingTime.seconds, residentKiBPerConnection: (after - before) / Double(connections),
            residentBeforeKiB: before, historyWatched: watched, historyUnwatched: unwatched
        )
    }

    /// One more connection subscribes (`tail: 1000`) and unsubscribes, stream after stream:
    /// the time from sending the subscribe to having the whole `log.history` message.
    private func timeHistory(on gateway: GatewayUnderTest, agent: String, streams: [String], samples: Int) async throws -> LatencyPercentiles {
        let connection = try await NIOLoadConnection(url: gateway.logsURL, token: gateway.token, logger: Logger(label: "tailgate-bench-history"))
        var latencies: [Int32] = []
        do {
            for sample in 0..<samples {
                let container = streams[sample % streams.count]
                let sent = WallClock.nanoseconds()
                let reply = try await connection.subscribe(agent: agent, container: container, tail: Self.historyLines)
                guard reply.lineCount == Self.historyLines else {
                    throw BenchError("log.history of \(container.prefix(12)) had \(reply.lineCount) lines, not \(Self.historyLines)")
                }
                latencies.append(Int32(clamping: (reply.receivedAt - sent) / 1000))
                try await connection.unsubscribe(agent: agent, container: container)
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return LatencyPercentiles(microseconds: latencies)!
    }

    private func report(_ results: [Result], connections: Int, streams: Int, samples: Int) -> String {
        var table = MarkdownTable("measurement", "median (min–max)")
        table.add("time to connect and subscribe all \(NumberFormat.grouped(Double(connections)))", Spread(results.map(\.openingSeconds)).formatted { NumberFormat.fixed($0, digits: 1) + " s" })
        table.add("gateway RSS before (idle, fresh process)", Spread(results.map(\.residentBeforeKiB)).formatted { NumberFormat.mebibytes(kibibytes: $0) })
        table.add("gateway RSS per connection (after − before) / connections", Spread(results.map(\.residentKiBPerConnection)).formatted { NumberFormat.fixed($0, digits: 1) + " KiB" })
        for (label, history) in [
            ("stream already watched, \(NumberFormat.grouped(Double(connections))) connections open", results.map(\.historyWatched)),
            ("first watcher of the stream, after the connections closed", results.map(\.historyUnwatched)),
        ] {
            let percentiles = [("p50", history.map(\.p50)), ("p99", history.map(\.p99)), ("max", history.map(\.max))]
            for (name, values) in percentiles {
                table.add("subscribe → full \(Self.historyLines)-line `log.history`, \(label), \(name)", Spread(values).formatted(NumberFormat.milliseconds))
            }
        }
        return """
            ### Connections and history

            \(NumberFormat.grouped(Double(connections))) WebSockets (64 handshakes at a time) on a fresh gateway, each subscribed \
            (`tail: 0`) to one of \(streams) idle containers that printed \(Self.historyLines) lines; RSS (`VmRSS`) read 1 s after \
            the gateway started and 2 s after the last subscribe. Then one more connection subscribes with `tail: \(Self.historyLines)` \
            and unsubscribes \(samples) times, stream after stream, timed from sending the subscribe to having the whole \
            `log.history` message: first with all connections open (every stream already has watchers on this gateway), then again \
            5 s after they closed (each subscribe now takes the stream's first reference). \(results.count) run\(results.count == 1 ? "" : "s").

            \(table.rendered())

            """
    }

    private func summaryRows(_ results: [Result], connections: Int) -> [SummaryRow] {
        [
            SummaryRow(
                scenario: "\(NumberFormat.grouped(Double(connections))) WebSockets on one gateway: RSS per connection",
                figure: Spread(results.map(\.residentKiBPerConnection)).formatted { NumberFormat.fixed($0, digits: 1) + " KiB" }
                    + "; all open in " + Spread(results.map(\.openingSeconds)).formatted { NumberFormat.fixed($0, digits: 1) + " s" },
                ceiling: "—", ratio: "—", goal: "< 20 KiB each"
            ),
            SummaryRow(
                scenario: "Subscribe → full \(Self.historyLines)-line history, p99",
                figure: Spread(results.map(\.historyWatched.p99)).formatted(NumberFormat.milliseconds)
                    + " (p50 " + Spread(results.map(\.historyWatched.p50)).formatted(NumberFormat.milliseconds) + ") with "
                    + NumberFormat.grouped(Double(connections)) + " connections open; first watcher of a stream: "
                    + Spread(results.map(\.historyUnwatched.p99)).formatted(NumberFormat.milliseconds),
                ceiling: "—", ratio: "—", goal: "p99 < 20 ms"
            ),
        ]
    }
}
