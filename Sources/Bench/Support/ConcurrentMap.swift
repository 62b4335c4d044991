extension Collection where Element: Sendable {
    /// `map` with at most `limit` transforms running at once, results in the original order:
    /// many connections or containers are set up in parallel without flooding 2 cores.
    func concurrentMap<Result: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async throws -> Result) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: count)
            var started = 0
            for (index, element) in enumerated() {
                if started >= limit, let (done, result) = try await group.next() { results[done] = result }
                group.addTask { (index, try await transform(element)) }
                started += 1
            }
            for try await (done, result) in group { results[done] = result }
            return results.map { $0! }
        }
    }
}
