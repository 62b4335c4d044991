import Foundation
import TestSupport
import Shared

/// `redis-benchmark -P <pipeline> -n <messages> -q PUBLISH bench-channel <payload>`:
/// the C reference for the same workload against the same server.
struct RedisBenchmarkTool {
    var url: RedisURL
    var pipelineSize: Int
    /// redis-benchmark's own default (`-c 50`), said out loud so the report can name it.
    var clients = 50

    var label: String { "redis-benchmark -P \(pipelineSize) -c \(clients)" }

    func run(messages: Int, payload: [UInt8], server: RedisClient) async throws -> PublishMeasurement {
        var arguments: [String]
        switch url.endpoint {
        case .tcp(let host, let port): arguments = ["-h", host, "-p", String(port)]
        case .unix(let path): arguments = ["-s", path]
        }
        if let user = url.username { arguments += ["--user", user] }
        if let password = url.password { arguments += ["-a", password] }
        if url.database != 0 { arguments += ["--dbnum", String(url.database)] }
        arguments += ["-P", String(pipelineSize), "-c", String(clients), "-n", String(messages), "-q"]
        arguments += ["PUBLISH", PublishPayload.channel, String(decoding: payload, as: UTF8.self)]

        let serverBefore = try await server.serverCPUSeconds()
        let cpuBefore = CPUUsage.reapedChildren()
        let result = try await ChildProcess.run("redis-benchmark", arguments)
        let cpu = CPUUsage.reapedChildren() - cpuBefore
        let serverCPU = try await server.serverCPUSeconds() - serverBefore
        guard result.status == 0, let rate = Self.requestsPerSecond(in: result.output) else {
            throw BenchError("redis-benchmark exited \(result.status) without a rate: \(result.output.suffix(300))")
        }
        // Its own rate, not our wall clock: that includes its start-up and connection set-up.
        return PublishMeasurement(
            commands: messages, pipelineSize: pipelineSize, elapsedSeconds: Double(messages) / rate,
            clientCPUSeconds: cpu, serverCPUSeconds: serverCPU
        )
    }

    /// The number before the last "requests per second" (progress lines say `rps=` instead).
    static func requestsPerSecond(in output: String) -> Double? {
        guard let marker = output.range(of: " requests per second", options: .backwards) else { return nil }
        let number = output[..<marker.lowerBound].reversed().prefix { $0.isNumber || $0 == "." }
        return Double(String(number.reversed()))
    }
}
