import ArgumentParser
import Shared

/// `tailgate-bench redis-publish`: PUBLISH rate through Tailgate's Redis client
/// against `redis-benchmark` on the same server, in the same run.
struct RedisPublishBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-publish",
        abstract: "PUBLISH rate of the Swift Redis client vs redis-benchmark."
    )

    @Option(help: "Redis URL (a private server: the benchmark floods it)")
    var redis: String

    @Option(help: "PUBLISH commands per variant and run")
    var messages = 1_000_000

    @Option(help: "Commands per pipeline (for the Swift client and redis-benchmark -P)")
    var pipeline = 64

    @Option(help: "Concurrent tasks sending pipelines in the main Swift variant")
    var concurrency = 8

    @Option(name: .customLong("big-pipeline"), help: "Commands per pipeline in the big-batch Swift variant")
    var bigPipeline = 1000

    @Option(name: .customLong("big-concurrency"), help: "Concurrent tasks in the big-batch Swift variant")
    var bigConcurrency = 4

    @Option(name: .customLong("payload-bytes"), help: "Size of each published message: a log.line frame (the smallest real one is ~240 bytes)")
    var payloadBytes = 250

    @Option(help: "Runs of every variant; the tables show the median and min–max")
    var runs = 3

    @OptionGroup var summary: SummaryOptions

    func validate() throws {
        guard messages > 0, pipeline > 0, concurrency > 0, bigPipeline > 0, bigConcurrency > 0, runs > 0 else {
            throw ValidationError("counts must be positive")
        }
    }

    func run() async throws {
        bootstrapLogging(level: .warning)
        let url: RedisURL
        do { url = try RedisURL(redis) } catch { throw ValidationError("--redis: \(error.description)") }
        let client = try BenchRedis.client(url: redis)
        defer { client.close() }
        let payload = PublishPayload.frame(bytes: payloadBytes)

        let reference = RedisBenchmarkTool(url: url, pipelineSize: pipeline)
        let variants = [
            SwiftPublishWorkload(pipelineSize: pipeline, concurrency: 1),
            SwiftPublishWorkload(pipelineSize: pipeline, concurrency: concurrency),
            SwiftPublishWorkload(pipelineSize: bigPipeline, concurrency: bigConcurrency),
        ]
        // Warm-up: connections up, allocator and Redis output buffers at their working size.
        _ = try await variants[1].run(messages: min(messages, 100_000), payload: payload, on: client)

        var referenceRuns: [PublishMeasurement] = []
        var variantRuns = Array(repeating: [PublishMeasurement](), count: variants.count)
        // Interleaved, so drift on the machine spreads over all variants alike.
        for run in 1...runs {
            progressNote("run \(run)/\(runs): \(reference.label)")
            referenceRuns.append(try await reference.run(messages: messages, payload: payload, server: client))
            for (index, variant) in variants.enumerated() {
                progressNote("run \(run)/\(runs): \(variant.label)")
                variantRuns[index].append(try await variant.run(messages: messages, payload: payload, on: client))
            }
        }

        let referenceRate = Spread(referenceRuns.map(\.commandsPerSecond))
        var table = MarkdownTable(
            "client", "PUBLISH/s", "pipelines/s", "client CPU s per 100k", "redis-server CPU s per 100k", "ratio to redis-benchmark"
        )
        func addRow(_ label: String, _ measurements: [PublishMeasurement]) {
            let rate = Spread(measurements.map(\.commandsPerSecond))
            table.add(
                label,
                rate.formatted(NumberFormat.grouped),
                Spread(measurements.map(\.pipelinesPerSecond)).formatted(NumberFormat.grouped),
                NumberFormat.cpuSeconds(Spread(measurements.map(\.clientCPUPer100k)).median),
                NumberFormat.cpuSeconds(Spread(measurements.map(\.serverCPUPer100k)).median),
                NumberFormat.ratio(rate.median / referenceRate.median)
            )
        }
        addRow(reference.label, referenceRuns)
        for (variant, measurements) in zip(variants, variantRuns) { addRow(variant.label, measurements) }

        print("""
            ### Redis PUBLISH: Swift client vs redis-benchmark

            \(messages) PUBLISH of a \(payload.count)-byte log.line frame per variant and run, \(runs) run\(runs == 1 ? "" : "s"); \
            median (min–max). CPU: medians; the Swift client's is this whole process (its I/O threads included).

            \(table.rendered())

            """)

        try summary.append(
            zip(variants, variantRuns).map { variant, measurements in
                let rate = Spread(measurements.map(\.commandsPerSecond))
                return SummaryRow(
                    scenario: "Redis PUBLISH, \(variant.label)",
                    figure: rate.formatted(NumberFormat.grouped) + " cmd/s",
                    ceiling: "\(reference.label): \(referenceRate.formatted(NumberFormat.grouped)) cmd/s",
                    ratio: NumberFormat.ratio(rate.median / referenceRate.median)
                )
            })
    }
}
