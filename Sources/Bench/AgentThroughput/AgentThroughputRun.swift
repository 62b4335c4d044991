import Foundation
import Shared

/// One run of the agent benchmark: a container writes `seq 1 N`; the agent
/// follows it live, curl reads the finished log raw, and a fresh agent catches
/// up on the whole finished log from a saved position.
struct AgentThroughputRun: Sendable {
    /// One run's figures.
    struct Result: Sendable {
        var raw: RawReadMeasurement
        /// curl following a second, identical container live: Docker's own pace for a live log.
        var rawFollow: RawReadMeasurement
        var live: FollowMeasurement
        var catchUp: FollowMeasurement
        /// How fast the container's lines got into Docker's log: `seq` blocks when dockerd lags.
        var writtenLinesPerSecond: Double
        /// The agent and curl following one more identical container's log at the same time.
        var sideBySide: SideBySide
    }

    /// Two readers of one live log in the same seconds: a host whose speed changes from one
    /// measurement to the next (steal time) changes both alike, so their ratio stays fair.
    struct SideBySide: Sendable {
        var agent: FollowMeasurement
        var curl: RawReadMeasurement
        var agentToCurl: Double { agent.linesPerSecond / curl.linesPerSecond }
    }

    let redis: RedisClient
    let docker: BenchDocker
    let launch: AgentUnderTest.Launch
    let keys: RedisKeys
    let lines: Int
    /// Seconds the container sleeps before writing, so the agent follows from the first line.
    let startDelay: Int
    let dockerdPID: Int32?

    func measure() async throws -> Result {
        let tag = Self.randomHex(bytes: 4)
        let agentID = try AgentID("bench-\(tag)")
        let name = "tailgate-bench-\(tag)"
        let gateway = GatewayStandIn(redis: redis, keys: keys, agentID: agentID)
        do {
            try await redis.send(RedisCommand("FLUSHALL"))
            let (container, live) = try await withAgent(agentID) { agent in
                let container = try ContainerID(try await docker.run(name: name, script: "sleep \(startDelay); seq 1 \(lines)"))
                return (container, try await follow(container, by: agent, watchedBy: gateway))
            }
            try await docker.waitForExit(container.rawValue)
            let times = try await docker.times(container.rawValue)
            let writeSeconds = Double(times.finishedNanoseconds - times.startedNanoseconds) / 1e9 - Double(startDelay)

            guard let socketPath = docker.socketPath else { throw BenchError("--docker-host must be unix:// for the curl read") }
            let rawRead = RawLogRead(socketPath: socketPath, dockerdPID: dockerdPID)
            let raw = try await rawRead.readFinished(container: container.rawValue, lines: lines)

            // As after an agent restart: a saved position older than the first line, so the
            // agent asks Docker for everything `since` then and publishes it as a backlog.
            try await redis.send(RedisCommand("FLUSHALL"))
            try await redis.send(
                RedisCommand(
                    "HSET", .string(keys.meta(agentID, container)), "epoch", .string(Self.randomHex(bytes: 8)), "seq", "0",
                    "lastTimestamp", .string(times.created), "lastTimestampCount", "0"
                ))
            let catchUp = try await withAgent(agentID) { agent in
                try await follow(container, by: agent, watchedBy: gateway)
            }
            await docker.remove(name)

            let followed = try await docker.run(name: name + "-curl", script: "sleep \(startDelay); seq 1 \(lines)")
            let rawFollow = try await rawRead.followLive(container: followed, lines: lines) {
                try await docker.printStart(followed, afterSleeping: startDelay)
            }
            await docker.remove(name + "-curl")

            let sideBySide = try await withAgent(agentID) { agent in
                try await followSideBySide(name: name + "-both", by: agent, watchedBy: gateway, curl: rawRead)
            }
            await docker.remove(name + "-both")
            return Result(
                raw: raw, rawFollow: rawFollow, live: live, catchUp: catchUp,
                writtenLinesPerSecond: Double(lines) / writeSeconds, sideBySide: sideBySide
            )
        } catch {
            for suffix in ["", "-curl", "-both"] { await docker.remove(name + suffix) }
            throw error
        }
    }

    /// curl and the agent follow one container's log from its first line, at the same time.
    private func followSideBySide(
        name: String,
        by agent: AgentUnderTest,
        watchedBy gateway: GatewayStandIn,
        curl: RawLogRead
    ) async throws -> SideBySide {
        let container = try ContainerID(try await docker.run(name: name, script: "sleep \(startDelay); seq 1 \(lines)"))
        async let curlFollow = curl.followLive(container: container.rawValue, lines: lines) {
            try await docker.printStart(container.rawValue, afterSleeping: startDelay)
        }
        let agentFollow = try await follow(container, by: agent, watchedBy: gateway)
        return SideBySide(agent: agentFollow, curl: try await curlFollow)
    }

    /// Takes a reference and waits until all `lines` are in Redis; the agent's CPU is read
    /// from /proc before and after, so its start-up is not counted.
    private func follow(_ container: ContainerID, by agent: AgentUnderTest, watchedBy gateway: GatewayStandIn) async throws -> FollowMeasurement {
        let agentBefore = agent.cpuSeconds ?? 0
        let redisBefore = try await redis.agentWork()
        let dockerdBefore = dockerdPID.flatMap(CPUUsage.process)
        try await gateway.takeReference(on: container)
        let arrival = try await gateway.waitForSeq(lines, on: container, agent: agent)
        let agentAfter = agent.cpuSeconds ?? agentBefore
        let dockerdAfter = dockerdPID.flatMap(CPUUsage.process)
        return FollowMeasurement(
            lines: lines,
            linesPerSecond: arrival.linesPerSecond,
            agentCPUSeconds: agentAfter - agentBefore,
            agentPeakResidentKiB: agent.peakResidentKiB ?? 0,
            redis: try await redis.agentWork() - redisBefore,
            dockerdCPUSeconds: dockerdAfter.flatMap { after in dockerdBefore.map { after - $0 } }
        )
    }

    /// Runs `body` with a freshly started agent and stops it afterwards, also on failure.
    private func withAgent<Result>(_ agentID: AgentID, _ body: (AgentUnderTest) async throws -> Result) async throws -> Result {
        let agent = try await AgentUnderTest.start(launch, agentID: agentID, keys: keys, redis: redis)
        do {
            let result = try await body(agent)
            await agent.stop()
            return result
        } catch {
            await agent.stop()
            throw error
        }
    }

    static func randomHex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
