/// One run of a publish workload: how many commands, how long, and what CPU it cost.
struct PublishMeasurement: Sendable {
    var commands: Int
    var pipelineSize: Int
    var elapsedSeconds: Double
    /// CPU seconds of the client process (the bench itself, or redis-benchmark).
    var clientCPUSeconds: Double
    /// CPU seconds of redis-server during the run.
    var serverCPUSeconds: Double

    var commandsPerSecond: Double { Double(commands) / elapsedSeconds }
    var pipelinesPerSecond: Double { commandsPerSecond / Double(pipelineSize) }
    var clientCPUPer100k: Double { clientCPUSeconds * 100_000 / Double(commands) }
    var serverCPUPer100k: Double { serverCPUSeconds * 100_000 / Double(commands) }
}
