import Foundation
import Shared
import TestSupport

/// The single stream at its cheapest: `tailgate-pipeline-ceiling`, a C program that
/// follows the log much as the agent does and writes each batch as the agent's
/// transaction, relays the channel as a gateway does (`log.lines` WebSocket messages over
/// loopback TCP) and counts the lines at the other end. Beside the product, it shows how
/// fast the same work goes on the same cores when the code spends next to nothing.
struct PipelineCeiling: Sendable {
    let executable: String
    let dockerSocket: String
    let redisURL: String
    let dockerdPID: pid_t?

    struct Measurement: Sendable {
        var lines: Int
        var received: Int
        /// From the first message the client received to the last.
        var seconds: Double
        /// CPU seconds during the run: the program's three threads, Redis, and dockerd (nil without its pid).
        var cpuSeconds: (follower: Double, relay: Double, client: Double, redis: Double, dockerd: Double?)

        var linesPerSecond: Double { Double(received - 1) / seconds }
        var lost: Int { lines - received }
        func per100kLines(_ cpuSeconds: Double) -> Double { cpuSeconds * 100_000 / Double(lines) }
    }

    /// Runs the program on `container`, started a few seconds before it prints `lines` lines.
    func measure(container: String, lines: Int, redis: RedisClient) async throws -> Measurement {
        guard case .tcp(let host, let port) = try RedisURL(redisURL).endpoint else {
            throw BenchError("the pipeline ceiling needs Redis over TCP, not \(redisURL)")
        }
        let redisBefore = try await redis.serverCPUSeconds()
        let dockerdBefore = dockerdPID.flatMap(CPUUsage.process)
        let result = try await ChildProcess.run(executable, [dockerSocket, container, host, String(port), String(lines)])
        let redisCPU = try await redis.serverCPUSeconds() - redisBefore
        let dockerdCPU: Double? =
            if let dockerdBefore, let pid = dockerdPID, let after = CPUUsage.process(pid) { after - dockerdBefore } else { nil }
        guard result.status == 0, let fields = Self.fields(result.output),
            let received = fields["received"].flatMap(Int.init), received > 1,
            let seconds = fields["seconds"].flatMap(Double.init), seconds > 0,
            let follower = fields["follower_cpu"].flatMap(Double.init), let relay = fields["relay_cpu"].flatMap(Double.init),
            let client = fields["client_cpu"].flatMap(Double.init)
        else {
            throw BenchError("\(executable) exited \(result.status): \(result.output.suffix(300))")
        }
        return Measurement(
            lines: lines, received: received, seconds: seconds,
            cpuSeconds: (follower: follower, relay: relay, client: client, redis: redisCPU, dockerd: dockerdCPU)
        )
    }

    /// `received=N seconds=S …` on the last line of the output.
    private static func fields(_ output: String) -> [String: String]? {
        guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("received=") }) else { return nil }
        var fields: [String: String] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }
}
