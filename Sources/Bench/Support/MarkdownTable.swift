/// A GitHub-flavoured Markdown table.
struct MarkdownTable {
    let header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) {
        precondition(cells.count == header.count, "a row needs one cell per column")
        rows.append(cells)
    }

    func rendered() -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        let separator = "|" + header.map { _ in "---|" }.joined()
        return ([line(header), separator] + rows.map(line)).joined(separator: "\n")
    }
}
