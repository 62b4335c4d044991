/// Live lines flowing to a load client over one measure window: how many arrived, how
/// many were lost, how late, and what the gateway's CPU paid for them.
struct LiveMeasurement: Sendable {
    var window: MeasureWindow
    /// Counted from the window's start until `grace` after its end.
    var counts: DeliveryCounts
    var countedSeconds: Double
    var latency: LatencyPercentiles?
    var gatewayCPUSeconds: Double
    var agentCPUSeconds: Double
    /// This process: the load client (and a raw reader running alongside, if any).
    var clientCPUSeconds: Double

    var deliveriesPerSecond: Double { Double(counts.lines) / countedSeconds }
    var gatewayCPUPerMillion: Double { gatewayCPUSeconds * 1e6 / Double(max(1, counts.lines)) }

    /// Times the lines Docker stamps during the next `duration`, then waits `grace` for the
    /// late ones. `alongside` runs over the same time (e.g. a raw Docker reader).
    static func run<Other: Sendable>(
        _ client: LoadClient, on stack: EndToEndStack, for duration: Duration, grace: Duration = .seconds(2),
        alongside: @escaping @Sendable (MeasureWindow) async throws -> Other
    ) async throws -> (LiveMeasurement, Other) {
        let window = MeasureWindow.starting(now: duration)
        client.measure(window)
        let before = client.counts
        let gatewayBefore = stack.gateway.cpuSeconds ?? 0
        let agentBefore = stack.agent.cpuSeconds ?? 0
        let clientBefore = CPUUsage.thisProcess()
        let started = ContinuousClock.now
        async let other = alongside(window)
        try await Task.sleep(for: duration + grace)
        let counted = (ContinuousClock.now - started).seconds
        let counts = client.counts - before
        let gatewayCPU = (stack.gateway.cpuSeconds ?? gatewayBefore) - gatewayBefore
        let agentCPU = (stack.agent.cpuSeconds ?? agentBefore) - agentBefore
        let clientCPU = CPUUsage.thisProcess() - clientBefore
        guard stack.gateway.process.hasExited == false else { throw BenchError("the gateway died; log \(stack.gateway.logPath)") }
        let measurement = LiveMeasurement(
            window: window, counts: counts, countedSeconds: counted,
            latency: LatencyPercentiles(microseconds: client.takeLatencies()),
            gatewayCPUSeconds: gatewayCPU, agentCPUSeconds: agentCPU, clientCPUSeconds: clientCPU
        )
        return (measurement, try await other)
    }

    static func run(_ client: LoadClient, on stack: EndToEndStack, for duration: Duration, grace: Duration = .seconds(2)) async throws -> LiveMeasurement {
        try await run(client, on: stack, for: duration, grace: grace) { _ in () }.0
    }
}
