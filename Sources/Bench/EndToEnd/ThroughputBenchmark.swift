import ArgumentParser

/// `tailgate-bench e2e-throughput`: one container printing as fast as it can, one
/// WebSocket client; lines/s delivered end to end vs raw reads of the same log:
/// of the finished log, and following it live as the agent does.
struct ThroughputBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-throughput",
        abstract: "Single-stream lines/s Docker → client vs a raw Docker API read of the same log."
    )

    @OptionGroup var options: EndToEndOptions

    @Option(help: "Lines the container prints per run (default 500000, 50000 with --quick)")
    var lines: Int?

    @Option(name: .customLong("pipeline-ceiling"), help: "Path of tailgate-pipeline-ceiling, to measure the same pipeline in minimal C beside the product")
    var pipelineCeiling: String?

    struct Result: Sendable {
        var linesPerSecond: Double
        var received: Int
        var lost: Int
        /// How the lost lines were lost: `log.gap` (the client fell behind), a seq jump
        /// nobody announced, or before the first line (the agent attached late).
        var lostInGaps: Int
        var lostUnannounced: Int
        var lostBeforeFirst: Int
        var raw: RawReadMeasurement
        /// curl following an identical container live: how fast Docker serves a live log.
        var rawFollow: RawReadMeasurement
        /// CPU seconds per 100k lines from the subscribe to the last line.
        var gatewayCPUPer100k: Double
        var agentCPUPer100k: Double
        var clientCPUPer100k: Double
        var redisCPUPer100k: Double
        /// dockerd serving the agent's follow (and writing the log): nil without `--dockerd-pid`.
        var dockerdCPUPer100k: Double?
        /// dockerd writing an identical container's log that nobody reads: the part of the
        /// live rows' dockerd CPU that the finished read does not pay. Nil without `--dockerd-pid`.
        var dockerdWriteOnlyCPUPer100k: Double?
        /// Lines per transaction (batch) of the agent: how well it batched.
        var linesPerRedisBatch: Double
        /// The same pipeline in minimal C, on an identical container; nil without `--pipeline-ceiling`.
        var ceiling: PipelineCeiling.Measurement?

        /// Against the raw reads of the same run, seconds apart: drift of the host's speed
        /// between runs (up to 40 % here) cancels out, as it would not in a ratio of medians.
        var ratioToRawRead: Double { linesPerSecond / raw.linesPerSecond }
        var ratioToRawFollow: Double { linesPerSecond / rawFollow.linesPerSecond }
        var rawFollowRatioToRawRead: Double { rawFollow.linesPerSecond / raw.linesPerSecond }
        var ratioToCeiling: Double? { ceiling.map { linesPerSecond / $0.linesPerSecond } }
        var ceilingRatioToRawRead: Double? { ceiling.map { $0.linesPerSecond / raw.linesPerSecond } }
        var ceilingRatioToRawFollow: Double? { ceiling.map { $0.linesPerSecond / rawFollow.linesPerSecond } }

        /// This run's CPU split, so that a slow run can be told from a dear one.
        var cpuNote: String {
            let dockerd = dockerdCPUPer100k.map(NumberFormat.cpuSeconds) ?? "—"
            let writing = dockerdWriteOnlyCPUPer100k.map(NumberFormat.cpuSeconds) ?? "—"
            let parts = [gatewayCPUPer100k, agentCPUPer100k, redisCPUPer100k, clientCPUPer100k].map(NumberFormat.cpuSeconds)
            return "CPU s per 100k: dockerd \(dockerd) (writing the log alone \(writing)), gateway \(parts[0]), agent \(parts[1]), Redis \(parts[2]), client \(parts[3]); "
                + "\(NumberFormat.grouped(linesPerRedisBatch)) lines per Redis batch"
        }
    }

    func run() async throws {
        let lines = self.lines ?? options.scaled(500_000, quick: 50_000)
        let runs = options.runCount
        let results = try await EndToEndStack.with(options) { stack in
            guard let socketPath = stack.docker.socketPath else { throw BenchError("--docker-host must be unix://") }
            let ceiling = pipelineCeiling.map {
                PipelineCeiling(executable: $0, dockerSocket: socketPath, redisURL: options.stack.redis, dockerdPID: options.stack.dockerdPID)
            }
            var results: [Result] = []
            for run in 1...runs {
                progressNote("e2e-throughput run \(run)/\(runs): \(lines) lines")
                let container = try await stack.startContainers(1, script: PacedLogScript.burst(lines: lines, after: Self.startDelay))[0]
                let dockerdPID = options.stack.dockerdPID
                let cpuBefore = (
                    gateway: stack.gateway.cpuSeconds ?? 0, agent: stack.agent.cpuSeconds ?? 0, client: CPUUsage.thisProcess(),
                    dockerd: dockerdPID.flatMap(CPUUsage.process)
                )
                let redisBefore = try await stack.redis.agentWork()
                let client = try await LoadClient.open(stack.subscriptions(1, over: [container]), to: stack.gateway, transport: .threadPerConnection)
                let tally = try await waitForAll(lines, client: client)
                let per100k = 100_000 / Double(lines)
                let gatewayCPU = ((stack.gateway.cpuSeconds ?? cpuBefore.gateway) - cpuBefore.gateway) * per100k
                let agentCPU = ((stack.agent.cpuSeconds ?? cpuBefore.agent) - cpuBefore.agent) * per100k
                let clientCPU = (CPUUsage.thisProcess() - cpuBefore.client) * per100k
                let dockerdCPU: Double? =
                    if let before = cpuBefore.dockerd, let pid = dockerdPID, let after = CPUUsage.process(pid) {
                        (after - before) * per100k
                    } else {
                        nil
                    }
                let redisWork = try await stack.redis.agentWork() - redisBefore
                await client.close()
                try await stack.docker.waitForExit(container)
                let rawRead = RawLogRead(socketPath: socketPath, dockerdPID: dockerdPID)
                let raw = try await rawRead.readFinished(container: container, lines: lines)
                await stack.docker.remove(container)
                let followed = try await stack.startContainers(1, script: PacedLogScript.burst(lines: lines, after: Self.startDelay))[0]
                let rawFollow = try await rawRead.followLive(container: followed, lines: lines) {
                    try await stack.docker.printStart(followed, afterSleeping: Self.startDelay)
                }
                await stack.docker.remove(followed)
                let dockerdWriteOnlyCPU = try await dockerdCPUWritingUnread(lines: lines, stack: stack)
                var ceilingMeasurement: PipelineCeiling.Measurement?
                if let ceiling {
                    let container = try await stack.startContainers(1, script: PacedLogScript.burst(lines: lines, after: Self.startDelay))[0]
                    ceilingMeasurement = try await ceiling.measure(container: container, lines: lines, redis: stack.redis)
                    await stack.docker.remove(container)
                }
                guard let first = tally.firstReceipt, tally.counts.lines > 1 else { throw BenchError("the client received no lines") }
                let result = Result(
                    linesPerSecond: Double(tally.counts.lines - 1) / (Double(tally.lastReceipt - first) / 1e9),
                    received: tally.counts.lines, lost: lines - tally.counts.lines,
                    lostInGaps: tally.counts.gappedLines, lostUnannounced: tally.counts.unannouncedMissing,
                    lostBeforeFirst: (tally.firstSeq ?? 1) - 1, raw: raw, rawFollow: rawFollow,
                    gatewayCPUPer100k: gatewayCPU, agentCPUPer100k: agentCPU, clientCPUPer100k: clientCPU,
                    redisCPUPer100k: redisWork.cpuPer100k(lines), dockerdCPUPer100k: dockerdCPU,
                    dockerdWriteOnlyCPUPer100k: dockerdWriteOnlyCPU.map { $0 * per100k },
                    linesPerRedisBatch: redisWork.linesPerBatch(lines), ceiling: ceilingMeasurement
                )
                progressNote("  \(NumberFormat.grouped(result.linesPerSecond)) lines/s, raw read \(NumberFormat.grouped(raw.linesPerSecond)), raw follow \(NumberFormat.grouped(rawFollow.linesPerSecond)), lost \(result.lost) (log.gap \(result.lostInGaps), unannounced \(result.lostUnannounced), before the first \(result.lostBeforeFirst))")
                progressNote("  \(result.cpuNote)")
                if let measured = result.ceiling {
                    progressNote("  pipeline ceiling: \(NumberFormat.grouped(measured.linesPerSecond)) lines/s, lost \(measured.lost)")
                }
                results.append(result)
            }
            return results
        }
        print(report(results, lines: lines))
        try options.summary.append(summaryRows(results))
    }

    /// Seconds a container waits before printing, so the reader is attached before the first line.
    private static let startDelay = 3

    /// dockerd's CPU seconds while an identical container prints its log with no reader
    /// (from its start, during its `startDelay`, to its exit); nil without `--dockerd-pid`.
    private func dockerdCPUWritingUnread(lines: Int, stack: EndToEndStack) async throws -> Double? {
        guard let pid = options.stack.dockerdPID else { return nil }
        let container = try await stack.startContainers(1, script: PacedLogScript.burst(lines: lines, after: Self.startDelay))[0]
        let before = CPUUsage.process(pid)
        try await stack.docker.waitForExit(container)
        let after = CPUUsage.process(pid)
        await stack.docker.remove(container)
        guard let before, let after else { return nil }
        return after - before
    }

    /// Waits until the client has every line (or one was lost for good: no progress for 20 s).
    private func waitForAll(_ lines: Int, client: LoadClient) async throws -> DeliveryTally {
        var last = (count: -1, at: ContinuousClock.now)
        while true {
            let tally = client.tallies[0]
            if tally.counts.lines + tally.counts.lost >= lines { return tally }
            if tally.counts.lines != last.count {
                last = (tally.counts.lines, ContinuousClock.now)
            } else if ContinuousClock.now - last.at > .seconds(20) {
                progressNote("  no progress for 20 s at \(tally.counts.lines) of \(lines) lines")
                return tally
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func report(_ results: [Result], lines: Int) -> String {
        let rate = Spread(results.map(\.linesPerSecond))
        let raw = Spread(results.map(\.raw.linesPerSecond))
        let rawFollow = Spread(results.map(\.rawFollow.linesPerSecond))
        var table = MarkdownTable(
            "reader", "lines/s", "ratio to raw read", "ratio to raw live follow", "lines lost per run (log.gap / unannounced / before the first)",
            "dockerd CPU s per 100k", "gateway CPU s per 100k", "agent CPU s per 100k", "Redis CPU s per 100k", "load client CPU s per 100k", "lines per Redis batch"
        )
        func cpu(_ value: (Result) -> Double?) -> String {
            let seconds = results.compactMap(value)
            return seconds.isEmpty ? "—" : NumberFormat.cpuSeconds(Spread(seconds).median)
        }
        table.add(
            "raw: curl reads the finished log from the Docker API", raw.formatted(NumberFormat.grouped), "1.00", "—", "—",
            cpu(\.raw.dockerdCPUPer100k), "—", "—", "—", "—", "—"
        )
        table.add(
            "raw: curl follows an identical container's log live (first line to exit)", rawFollow.formatted(NumberFormat.grouped),
            Spread(results.map(\.rawFollowRatioToRawRead)).formatted(NumberFormat.ratio), "1.00", "—", cpu(\.rawFollow.dockerdCPUPer100k), "—", "—", "—", "—", "—"
        )
        table.add(
            "one WebSocket client via agent, Redis, gateway (first to last line received)", rate.formatted(NumberFormat.grouped),
            Spread(results.map(\.ratioToRawRead)).formatted(NumberFormat.ratio),
            Spread(results.map(\.ratioToRawFollow)).formatted(NumberFormat.ratio),
            results.map { "\($0.lost) (\($0.lostInGaps) / \($0.lostUnannounced) / \($0.lostBeforeFirst))" }.joined(separator: ", "),
            cpu(\.dockerdCPUPer100k), cpu(\.gatewayCPUPer100k), cpu(\.agentCPUPer100k), cpu(\.redisCPUPer100k), cpu(\.clientCPUPer100k),
            NumberFormat.grouped(Spread(results.map(\.linesPerRedisBatch)).median)
        )
        let ceilings = results.compactMap(\.ceiling)
        if !ceilings.isEmpty {
            func ceilingCPU(_ cpuSeconds: (PipelineCeiling.Measurement) -> Double?) -> String {
                let per100k = ceilings.compactMap { measured in cpuSeconds(measured).map(measured.per100kLines) }
                return per100k.isEmpty ? "—" : NumberFormat.cpuSeconds(Spread(per100k).median)
            }
            table.add(
                "ceiling: the same work in minimal C (`tailgate-pipeline-ceiling`; its follower in the agent column, its relay in the gateway's)",
                Spread(ceilings.map(\.linesPerSecond)).formatted(NumberFormat.grouped),
                Spread(results.compactMap(\.ceilingRatioToRawRead)).formatted(NumberFormat.ratio),
                Spread(results.compactMap(\.ceilingRatioToRawFollow)).formatted(NumberFormat.ratio),
                ceilings.map { String($0.lost) }.joined(separator: ", "),
                ceilingCPU(\.cpuSeconds.dockerd), ceilingCPU(\.cpuSeconds.relay), ceilingCPU(\.cpuSeconds.follower),
                ceilingCPU(\.cpuSeconds.redis), ceilingCPU(\.cpuSeconds.client), "—"
            )
        }
        table.add(
            "none: an identical container's log written, nobody reading it", "—", "—", "—", "—",
            cpu(\.dockerdWriteOnlyCPUPer100k), "—", "—", "—", "—", "—"
        )
        return """
            ### Single-stream throughput: Docker → one client

            `seq 1 \(lines)` in a container that waits \(Self.startDelay) s first, so the client (`batch: true`, `tail: 0`, reading its socket on a thread of its own) is \
            subscribed and the agent attached before the first line; \(results.count) run\(results.count == 1 ? "" : "s"); median (min–max). \
            Ratios: each run's against the raw reads of the same run. CPU: from the subscribe to the last line received (curl: its read), medians; dockerd's \
            in the two live rows includes writing the log, which the last row measures alone (the finished read does not pay it).\(ceilingNote(results))

            \(table.rendered())

            """
    }

    /// How the product compares with the pipeline ceiling, when it was measured.
    private func ceilingNote(_ results: [Result]) -> String {
        let ratios = results.compactMap(\.ratioToCeiling)
        guard !ratios.isEmpty else { return "" }
        return " The ceiling row follows a fourth identical container with a C program that does the agent's Redis work "
            + "(the same transaction and batches, reads paced 0.5 ms apart), relays the channel as the gateway does (one `log.lines` message "
            + "per read of its Redis socket, over loopback TCP) and counts the lines at the client's end; "
            + "the product's lines/s against it, per run: \(Spread(ratios).formatted(NumberFormat.ratio))."
    }

    private func summaryRows(_ results: [Result]) -> [SummaryRow] {
        let rate = Spread(results.map(\.linesPerSecond))
        let raw = Spread(results.map(\.raw.linesPerSecond))
        let toRawRead = Spread(results.map(\.ratioToRawRead))
        let toRawFollow = Spread(results.map(\.ratioToRawFollow))
        let rawFollow = Spread(results.map(\.rawFollow.linesPerSecond))
        let lost = results.map(\.lost).reduce(0, +)
        let figure = rate.formatted(NumberFormat.grouped) + " lines/s" + (lost == 0 ? ", none lost" : ", \(lost) lost")
        let ceilings = results.compactMap(\.ceiling)
        let ceilingRow = ceilings.isEmpty ? [] : [
            SummaryRow(
                scenario: "Single stream, as above, against the same pipeline in minimal C (follower, relay, client)", figure: figure,
                ceiling: "`tailgate-pipeline-ceiling`: " + Spread(ceilings.map(\.linesPerSecond)).formatted(NumberFormat.grouped) + " lines/s, "
                    + Spread(results.compactMap(\.ceilingRatioToRawRead)).formatted(NumberFormat.ratio)
                    + " of the raw read",
                ratio: Spread(results.compactMap(\.ratioToCeiling)).formatted(NumberFormat.ratio), goal: "—"
            )
        ]
        return [
            SummaryRow(
                scenario: "Single stream, `seq` as fast as it goes, 1 client (ratio: median of the runs' ratios)", figure: figure,
                ceiling: "raw Docker API read of the finished log (curl): " + raw.formatted(NumberFormat.grouped) + " lines/s",
                ratio: toRawRead.formatted(NumberFormat.ratio), goal: "≥ 0.90, no loss"
            ),
            SummaryRow(
                scenario: "Single stream, as above, against Docker's live follow", figure: figure,
                ceiling: "raw Docker API live follow (curl): " + rawFollow.formatted(NumberFormat.grouped) + " lines/s",
                ratio: toRawFollow.formatted(NumberFormat.ratio), goal: "—"
            ),
        ] + ceilingRow
    }
}
