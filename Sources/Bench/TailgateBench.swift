import ArgumentParser

/// `tailgate-bench`: measurements of Tailgate's parts against their ceilings.
/// One subcommand per scenario; `scripts/bench.sh` runs them all against private servers.
@main
struct TailgateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailgate-bench",
        abstract: "Benchmarks Tailgate's parts against what the machine can do.",
        subcommands: [
            RedisPublishBenchmark.self, AgentThroughputBenchmark.self, LatencyBenchmark.self, ThroughputBenchmark.self,
            FanOutBenchmark.self, ManyStreamsBenchmark.self, ConnectionsBenchmark.self,
        ]
    )
}
