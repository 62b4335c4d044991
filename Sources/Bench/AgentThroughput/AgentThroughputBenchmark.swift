import ArgumentParser
import Foundation
import Shared

/// `tailgate-bench agent-throughput`: lines per second from a container's Docker
/// log into Redis through `tailgate-agent`, against reading the same log raw.
struct AgentThroughputBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-throughput",
        abstract: "Agent lines/s (Docker log → Redis) vs a raw read of the same log with curl."
    )

    @OptionGroup var stack: StackOptions

    @Option(help: "Lines the container writes per run")
    var lines = 2_000_000

    @Option(help: "Runs; the tables show the median and min–max")
    var runs = 3

    @Option(help: "The agent's --history")
    var history = 1000

    @Option(name: .customLong("start-delay"), help: "Seconds the container sleeps before writing, so the agent attaches first")
    var startDelay = 2

    @OptionGroup var summary: SummaryOptions

    func validate() throws {
        guard lines > 0, runs > 0, startDelay >= 0, (1...100_000).contains(history) else {
            throw ValidationError("--lines and --runs must be positive, --history 1-100000")
        }
    }

    func run() async throws {
        bootstrapLogging(level: .warning)
        let client = try BenchRedis.client(url: stack.redis, connectionCount: 1)
        defer { client.close() }
        let logDirectory = stack.logDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("tailgate-bench-\(AgentThroughputRun.randomHex(bytes: 4))").path
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)

        let benchmark = AgentThroughputRun(
            redis: client,
            docker: BenchDocker(host: stack.dockerHost, image: stack.image),
            launch: .init(executable: stack.agent, redisURL: stack.redis, dockerHost: stack.dockerHost, history: history, logDirectory: logDirectory),
            keys: RedisKeys(),
            lines: lines,
            startDelay: startDelay,
            dockerdPID: stack.dockerdPID
        )
        var results: [AgentThroughputRun.Result] = []
        for run in 1...runs {
            progressNote("agent-throughput run \(run)/\(runs): \(lines) lines")
            let result = try await benchmark.measure()
            progressNote(
                "  curl follow \(NumberFormat.grouped(result.rawFollow.linesPerSecond)), live \(NumberFormat.grouped(result.live.linesPerSecond)) lines/s, catch-up \(NumberFormat.grouped(result.catchUp.linesPerSecond)), raw \(NumberFormat.grouped(result.raw.linesPerSecond)); side by side: agent \(NumberFormat.grouped(result.sideBySide.agent.linesPerSecond)), curl \(NumberFormat.grouped(result.sideBySide.curl.linesPerSecond))"
            )
            results.append(result)
        }
        print(report(results, logDirectory: logDirectory))
        try summary.append(summaryRows(results))
    }

    private func report(_ results: [AgentThroughputRun.Result], logDirectory: String) -> String {
        let raw = Spread(results.map(\.raw.linesPerSecond))
        let rawBytes = results[0].raw.bytes
        var table = MarkdownTable(
            "measurement", "lines/s", "ratio to raw read", "ratio to raw live follow", "agent CPU s per 100k lines", "agent peak RSS", "lines per Redis batch",
            "redis-server CPU s per 100k", "dockerd CPU s per 100k"
        )
        func median(_ values: [Double?]) -> String {
            let known = values.compactMap { $0 }
            return known.isEmpty ? "—" : NumberFormat.cpuSeconds(Spread(known).median)
        }
        let rawFollow = Spread(results.map(\.rawFollow.linesPerSecond))
        table.add(
            "raw: curl reads the finished log from the Docker API", raw.formatted(NumberFormat.grouped), "1.00",
            NumberFormat.ratio(raw.median / rawFollow.median), "—", "—", "—", "—", median(results.map(\.raw.dockerdCPUPer100k))
        )
        table.add(
            "raw: curl follows a live container's log (from its first line to its exit)", rawFollow.formatted(NumberFormat.grouped),
            NumberFormat.ratio(rawFollow.median / raw.median), "1.00", "—", "—", "—", "—", median(results.map(\.rawFollow.dockerdCPUPer100k))
        )
        let written = Spread(results.map(\.writtenLinesPerSecond))
        table.add(
            "container writes its log (`seq` → dockerd json-file)", written.formatted(NumberFormat.grouped),
            NumberFormat.ratio(written.median / raw.median), NumberFormat.ratio(written.median / rawFollow.median), "—", "—", "—", "—", "—"
        )
        let curlBeside = Spread(results.map(\.sideBySide.curl.linesPerSecond))
        table.add(
            "side by side: curl follows a live log while the agent follows it too", curlBeside.formatted(NumberFormat.grouped),
            NumberFormat.ratio(curlBeside.median / raw.median), NumberFormat.ratio(curlBeside.median / rawFollow.median),
            "—", "—", "—", "—", median(results.map(\.sideBySide.curl.dockerdCPUPer100k))
        )
        for (label, follows) in [
            ("agent, live follow (from first line to seq = N)", results.map(\.live)),
            ("agent, catch-up on the finished log (resume from a saved position)", results.map(\.catchUp)),
            ("side by side: the agent follows the log curl follows, at the same time", results.map(\.sideBySide.agent)),
        ] {
            let rate = Spread(follows.map(\.linesPerSecond))
            table.add(
                label, rate.formatted(NumberFormat.grouped), NumberFormat.ratio(rate.median / raw.median),
                NumberFormat.ratio(rate.median / rawFollow.median),
                NumberFormat.cpuSeconds(Spread(follows.map(\.agentCPUPer100k)).median),
                NumberFormat.mebibytes(kibibytes: Spread(follows.map(\.agentPeakResidentKiB)).max),
                NumberFormat.grouped(Spread(follows.map(\.linesPerBatch)).median),
                NumberFormat.cpuSeconds(Spread(follows.map(\.redisCPUPer100k)).median),
                median(follows.map(\.dockerdCPUPer100k))
            )
        }
        return """
            ### Agent throughput: Docker log → Redis

            `seq 1 \(lines)` in a container (\(NumberFormat.grouped(Double(rawBytes))) bytes of log as the Docker API serves it), \
            \(results.count) run\(results.count == 1 ? "" : "s"), agent `--history \(history)`; median (min–max). \
            CPU: medians; RSS: the largest peak. Agent logs: `\(logDirectory)`.

            \(table.rendered())

            Side by side, agent lines/s ÷ curl lines/s per run: \(Spread(results.map(\.sideBySide.agentToCurl)).formatted(NumberFormat.ratio)) \
            (dockerd serves both; the container writes to its log file whatever they read).

            """
    }

    /// Each agent mode beside the raw read it can be held to: a live follow cannot outrun
    /// Docker's own live follow, a catch-up reads a finished log as `curl` does.
    private func summaryRows(_ results: [AgentThroughputRun.Result]) -> [SummaryRow] {
        let raw = Spread(results.map(\.raw.linesPerSecond))
        let rawFollow = Spread(results.map(\.rawFollow.linesPerSecond))
        let finishedRead = (name: "raw Docker API read of the finished log (curl)", rate: raw)
        let liveFollow = (name: "raw Docker API live follow (curl)", rate: rawFollow)
        func row(_ scenario: String, _ rates: [Double], against ceiling: (name: String, rate: Spread), goal: String = "—") -> SummaryRow {
            let rate = Spread(rates)
            return SummaryRow(
                scenario: scenario, figure: rate.formatted(NumberFormat.grouped) + " lines/s",
                ceiling: "\(ceiling.name): \(ceiling.rate.formatted(NumberFormat.grouped)) lines/s",
                ratio: NumberFormat.ratio(rate.median / ceiling.rate.median), goal: goal
            )
        }
        return [
            row("Agent, live follow of `seq 1 \(lines)`", results.map(\.live.linesPerSecond), against: liveFollow, goal: "≥ 0.90 (issue 3)"),
            row("Agent, catch-up on the finished log", results.map(\.catchUp.linesPerSecond), against: finishedRead, goal: "≥ 0.90 (issue 3)"),
            SummaryRow(
                scenario: "Agent, live follow beside curl following the same log at the same time (ratio: median of the runs' ratios)",
                figure: Spread(results.map(\.sideBySide.agent.linesPerSecond)).formatted(NumberFormat.grouped) + " lines/s",
                ceiling: "curl, same log, same time: \(Spread(results.map(\.sideBySide.curl.linesPerSecond)).formatted(NumberFormat.grouped)) lines/s",
                ratio: NumberFormat.ratio(Spread(results.map(\.sideBySide.agentToCurl)).median),
                goal: "≥ 0.90 (issue 3)"
            ),
            row("Docker following a live log, curl", results.map(\.rawFollow.linesPerSecond), against: finishedRead),
            row("Docker writing the container's log", results.map(\.writtenLinesPerSecond), against: finishedRead),
        ]
    }
}
