import ArgumentParser
import Foundation

/// One line of the overall results table that `scripts/bench.sh` assembles from every scenario.
struct SummaryRow {
    var scenario: String
    var figure: String
    var ceiling: String
    var ratio: String
    /// The target of an issue (6 unless it names another) this figure is held against, if it has one.
    var goal = "—"

    var cells: [String] { [scenario, figure, ceiling, ratio, goal] }
}

/// `--summary PATH`: where a scenario appends its summary rows (tab-separated, one per line),
/// so one script can build a single table out of several subcommand runs.
struct SummaryOptions: ParsableArguments {
    @Option(name: .customLong("summary"), help: "Append summary rows (tab-separated) to this file")
    var path: String?

    func append(_ rows: [SummaryRow]) throws {
        guard let path else { return }
        let text = rows.map { $0.cells.joined(separator: "\t") + "\n" }.joined()
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw BenchError("cannot write \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}
