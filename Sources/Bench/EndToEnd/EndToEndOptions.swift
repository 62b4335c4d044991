import ArgumentParser

/// What every end-to-end scenario needs: the private servers, the release binaries, run counts.
struct EndToEndOptions: ParsableArguments {
    @OptionGroup var stack: StackOptions

    @Option(help: "Path of the tailgate-gateway binary (a release build)")
    var gateway: String

    @Option(help: "Runs; the tables show the median and min–max (default 3, 1 with --quick)")
    var runs: Int?

    @Flag(help: "Small counts and one run: a smoke test")
    var quick = false

    @OptionGroup var summary: SummaryOptions

    var runCount: Int { runs ?? (quick ? 1 : 3) }

    /// `full` normally, `quick` with `--quick`.
    func scaled<Value>(_ full: Value, quick: Value) -> Value { self.quick ? quick : full }

    func validate() throws {
        guard runCount > 0 else { throw ValidationError("--runs must be positive") }
    }
}
