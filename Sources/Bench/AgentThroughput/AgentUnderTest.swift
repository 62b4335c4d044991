import Foundation
import TestSupport
import Glibc
import Shared

/// A `tailgate-agent` process started for one measurement, and what it cost.
struct AgentUnderTest: Sendable {
    /// How to start the agent; everything but its id is the same for every run.
    struct Launch: Sendable {
        var executable: String
        var redisURL: String
        var dockerHost: String
        var history: Int
        var logDirectory: String
    }

    let process: ChildProcess
    let agentID: AgentID
    let logPath: String

    /// Starts the agent and returns once it listens on its control channel, so a
    /// `log.stream.start` published from now on reaches it.
    static func start(_ launch: Launch, agentID: AgentID, keys: RedisKeys, redis: RedisClient) async throws -> AgentUnderTest {
        let logPath = "\(launch.logDirectory)/agent-\(agentID).log"
        let process = try ChildProcess(
            launch.executable,
            [
                "--redis", launch.redisURL, "--docker-host", launch.dockerHost,
                "--agent-id", agentID.rawValue, "--history", String(launch.history),
            ],
            outputPath: logPath
        )
        let agent = AgentUnderTest(process: process, agentID: agentID, logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if process.hasExited { throw BenchError("the agent exited at start; \(agent.logTail)") }
            let reply = try await redis.send(RedisCommand("PUBSUB", "NUMSUB", .string(keys.control(agentID)))).array()
            if reply.count == 2, try reply[1].int() > 0 { return agent }
            try await Task.sleep(for: .milliseconds(20))
        }
        await agent.stop()
        throw BenchError("the agent did not subscribe to its control channel within 30 s; \(agent.logTail)")
    }

    var cpuSeconds: Double? { CPUUsage.process(process.pid) }
    var peakResidentKiB: Double? { CPUUsage.peakResidentKiB(process.pid) }
    var isRunning: Bool { !process.hasExited }

    func stop() async {
        let code = await process.stop()
        // 0: clean shutdown; 143: it died of the SIGTERM itself, still orderly for a benchmark.
        if code != 0 && code != 143 { progressNote("agent \(agentID) exited \(code); log \(logPath)") }
    }

    /// The last lines of the agent's log, for error messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return "log \(logPath):\n" + text.split(separator: "\n").suffix(10).joined(separator: "\n")
    }
}
