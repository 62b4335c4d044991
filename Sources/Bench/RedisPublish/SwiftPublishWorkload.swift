import Shared

/// PUBLISH through Tailgate's own client: `concurrency` tasks, each sending
/// pipelines of `pipelineSize` commands and waiting for their replies, so
/// up to `concurrency` pipelines are in flight over the client's connections.
struct SwiftPublishWorkload: Sendable {
    var pipelineSize: Int
    var concurrency: Int

    var label: String { "Swift client, pipeline \(pipelineSize) × \(concurrency) task\(concurrency == 1 ? "" : "s")" }

    func run(messages: Int, payload: [UInt8], on client: RedisClient) async throws -> PublishMeasurement {
        let pipelineCount = (messages + pipelineSize - 1) / pipelineSize
        let serverBefore = try await client.serverCPUSeconds()
        let cpuBefore = CPUUsage.thisProcess()
        let start = ContinuousClock.now
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    // Pipelines worker, worker + concurrency, ...: an even share for every task.
                    var sent = 0
                    for pipeline in stride(from: worker, to: pipelineCount, by: concurrency) {
                        let count = min(pipelineSize, messages - pipeline * pipelineSize)
                        // Built per pipeline, as a real caller would: encoding is part of the client's cost.
                        let commands = (0..<count).map { _ in
                            RedisCommand("PUBLISH", .string(PublishPayload.channel), .bytes(payload))
                        }
                        let replies = try await client.pipeline(commands)
                        for reply in replies {
                            guard case .integer = reply else { throw BenchError("PUBLISH answered \(reply)") }
                        }
                        sent += count
                    }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = CPUUsage.thisProcess() - cpuBefore
        let serverCPU = try await client.serverCPUSeconds() - serverBefore
        guard sent == messages else { throw BenchError("sent \(sent) of \(messages) messages") }
        return PublishMeasurement(
            commands: sent, pipelineSize: pipelineSize, elapsedSeconds: elapsed,
            clientCPUSeconds: cpu, serverCPUSeconds: serverCPU
        )
    }
}
