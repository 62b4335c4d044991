import ArgumentParser
import Foundation

/// What every end-to-end scenario needs: the private servers, the release binaries, run counts.
struct EndToEndOptions: ParsableArguments {
    @Option(help: "Redis URL (a private server: the scenario runs FLUSHALL)")
    var redis: String

    @Option(name: .customLong("docker-host"), help: "Docker engine, unix:///path/docker.sock")
    var dockerHost: String

    @Option(help: "Path of the tailgate-agent binary (a release build)")
    var agent: String

    @Option(help: "Path of the tailgate-gateway binary (a release build)")
    var gateway: String

    @Option(help: "Image with busybox sh, seq and usleep")
    var image = "tailgate-test-busybox:latest"

    @Option(help: "Runs; the tables show the median and min–max (default 3, 1 with --quick)")
    var runs: Int?

    @Flag(help: "Small counts and one run: a smoke test")
    var quick = false

    @Option(name: .customLong("log-dir"), help: "Where the agent's and gateway's logs go (default: a new temporary directory)")
    var logDirectory: String?

    @OptionGroup var summary: SummaryOptions

    var runCount: Int { runs ?? (quick ? 1 : 3) }

    /// `full` normally, `quick` with `--quick`.
    func scaled<Value>(_ full: Value, quick: Value) -> Value { self.quick ? quick : full }

    func validate() throws {
        guard runCount > 0 else { throw ValidationError("--runs must be positive") }
    }
}
