import NIOCore
import Shared

/// What the benchmarks ask Redis itself, besides the workload.
extension RedisClient {
    /// CPU seconds the Redis server has used since it started (`INFO cpu`, user + system).
    func serverCPUSeconds() async throws -> Double {
        guard let info = try await send(RedisCommand("INFO", "cpu")).string() else {
            throw BenchError("INFO cpu returned nothing")
        }
        var total = 0.0
        for line in info.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":")
            if parts.count == 2, parts[0] == "used_cpu_sys" || parts[0] == "used_cpu_user", let value = Double(parts[1]) {
                total += value
            }
        }
        return total
    }

    /// Redis's CPU and the agent's batches (transactions) so far: subtract a reading taken
    /// before a measurement from one taken after it.
    func agentWork() async throws -> AgentRedisWork {
        AgentRedisWork(cpuSeconds: try await serverCPUSeconds(), batches: try await commandCalls(["exec"]))
    }

    /// How many times Redis ran these commands since its start (`INFO commandstats`).
    func commandCalls(_ names: [String]) async throws -> Int {
        let info = try await send(RedisCommand("INFO", "commandstats")).string() ?? ""
        var total = 0
        for line in info.split(whereSeparator: \.isNewline) {
            // cmdstat_exec:calls=12,usec=...
            guard let colon = line.firstIndex(of: ":"), names.contains(where: { line[..<colon] == "cmdstat_\($0)" }) else { continue }
            let calls = line[line.index(after: colon)...].split(separator: ",").first { $0.hasPrefix("calls=") }
            total += calls.flatMap { Int($0.dropFirst("calls=".count)) } ?? 0
        }
        return total
    }
}

/// What Redis spent on the agent's writes: its CPU, and the transactions (`EXEC`s),
/// one per batch of lines the agent wrote.
struct AgentRedisWork: Sendable {
    var cpuSeconds: Double
    var batches: Int

    static func - (after: AgentRedisWork, before: AgentRedisWork) -> AgentRedisWork {
        AgentRedisWork(cpuSeconds: after.cpuSeconds - before.cpuSeconds, batches: after.batches - before.batches)
    }

    func linesPerBatch(_ lines: Int) -> Double { Double(lines) / Double(max(1, batches)) }
    func cpuPer100k(_ lines: Int) -> Double { cpuSeconds * 100_000 / Double(lines) }
}
