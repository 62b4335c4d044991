/// What following one container's log cost, as seen from outside the agent.
struct FollowMeasurement: Sendable {
    var lines: Int
    var linesPerSecond: Double
    var agentCPUSeconds: Double
    var agentPeakResidentKiB: Double
    var redisCPUSeconds: Double
    /// Lua script runs (EVAL/EVALSHA): one per batch of lines the agent wrote.
    var redisScriptCalls: Int
    /// nil when the bench was not told dockerd's pid.
    var dockerdCPUSeconds: Double?

    var linesPerBatch: Double { Double(lines) / Double(max(1, redisScriptCalls)) }
    var agentCPUPer100k: Double { agentCPUSeconds * 100_000 / Double(lines) }
    var redisCPUPer100k: Double { redisCPUSeconds * 100_000 / Double(lines) }
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
