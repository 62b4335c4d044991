/// What following one container's log cost, as seen from outside the agent.
struct FollowMeasurement: Sendable {
    var lines: Int
    var linesPerSecond: Double
    var agentCPUSeconds: Double
    var agentPeakResidentKiB: Double
    var redis: AgentRedisWork
    /// nil when the bench was not told dockerd's pid.
    var dockerdCPUSeconds: Double?

    var linesPerBatch: Double { redis.linesPerBatch(lines) }
    var agentCPUPer100k: Double { agentCPUSeconds * 100_000 / Double(lines) }
    var redisCPUPer100k: Double { redis.cpuPer100k(lines) }
    var dockerdCPUPer100k: Double? { dockerdCPUSeconds.map { $0 * 100_000 / Double(lines) } }
}

/// Reading a finished container's whole log straight from the Docker API: the agent's ceiling.
struct RawReadMeasurement: Sendable {
    var lines: Int
    var bytes: Int
    var seconds: Double
    var dockerdCPUSeconds: Double?

    var linesPerSecond: Double { Double(lines) / seconds }
    var dockerdCPUPer100k: Double? { dockerdCPUSeconds.map { $0 * 100_000 / Double(lines) } }
}
