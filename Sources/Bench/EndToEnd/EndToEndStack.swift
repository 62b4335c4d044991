import Foundation
import Shared

/// The whole product under test for one scenario: a real agent and gateway on the private
/// Redis and dockerd, and the containers the scenario starts (removed with the stack).
struct EndToEndStack: Sendable {
    let redis: RedisClient
    let docker: BenchDocker
    let keys = RedisKeys()
    let agent: AgentUnderTest
    let gateway: GatewayUnderTest
    let logDirectory: String
    /// Prefix of this stack's container names.
    let containerPrefix: String

    /// Starts agent and gateway on an emptied Redis, runs `body`, and stops everything, also on failure.
    static func with<Result: Sendable>(_ options: EndToEndOptions, _ body: (EndToEndStack) async throws -> Result) async throws -> Result {
        bootstrapLogging(level: .warning)
        let redis = try BenchRedis.client(url: options.stack.redis, connectionCount: 1)
        defer { redis.close() }
        let tag = AgentThroughputRun.randomHex(bytes: 4)
        let logDirectory = options.stack.logDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("tailgate-bench-\(tag)").path
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        try await redis.send(RedisCommand("FLUSHALL"))
        let keys = RedisKeys()
        let agent = try await AgentUnderTest.start(
            .init(executable: options.stack.agent, redisURL: options.stack.redis, dockerHost: options.stack.dockerHost, history: 1000, logDirectory: logDirectory),
            agentID: try AgentID("bench-\(tag)"), keys: keys, redis: redis
        )
        let gateway: GatewayUnderTest
        do {
            gateway = try await GatewayUnderTest.start(executable: options.gateway, redisURL: options.stack.redis, logDirectory: logDirectory)
        } catch {
            await agent.stop()
            throw error
        }
        let stack = EndToEndStack(
            redis: redis, docker: BenchDocker(host: options.stack.dockerHost, image: options.stack.image), agent: agent, gateway: gateway,
            logDirectory: logDirectory, containerPrefix: "tailgate-bench-\(tag)-"
        )
        do {
            let result = try await body(stack)
            await stack.stop()
            return result
        } catch {
            await stack.stop()
            throw error
        }
    }

    /// Starts `count` containers running `script` (a few `docker run`s at a time: each costs
    /// dockerd and containerd a good part of a core) and returns once the agent lists them all.
    func startContainers(_ count: Int, script: String) async throws -> [String] {
        let docker = self.docker
        let prefix = containerPrefix
        let ids = try await Array(0..<count).concurrentMap(limit: 4) { index in
            try await docker.run(name: "\(prefix)\(AgentThroughputRun.randomHex(bytes: 3))-\(index)", script: script)
        }
        try await waitUntilListed(ids)
        return ids
    }

    /// Subscriptions for the load client: connection `i` watches `containers[i % count]`.
    func subscriptions(_ count: Int, over containers: [String]) -> [LoadClient.Subscription] {
        (0..<count).map { LoadClient.Subscription(agent: agent.agentID.rawValue, container: containers[$0 % containers.count]) }
    }

    /// Waits until every stream's history holds `lines` lines (`meta.seq`).
    func waitForSeq(_ lines: Int, on containers: [String], timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        for container in containers {
            let key = keys.meta(agent.agentID, try ContainerID(container))
            while try await redis.send(RedisCommand("HGET", .string(key), "seq")).string().flatMap({ Int($0) }) ?? 0 < lines {
                guard ContinuousClock.now < deadline else { throw BenchError("stream \(container.prefix(12)) did not reach seq \(lines) in time; \(agent.logTail)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The gateway resolves a subscribe against the agent's container list, which the agent
    /// rewrites a moment after each Docker event: wait until it names every container.
    private func waitUntilListed(_ ids: [String]) async throws {
        let key = keys.containers(agent.agentID)
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let list = try await redis.send(RedisCommand("GET", .string(key))).string() ?? ""
            if ids.allSatisfy({ list.contains($0) }) { return }
            guard ContinuousClock.now < deadline else { throw BenchError("the agent did not list the new containers within 60 s; \(agent.logTail)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func stop() async {
        await gateway.stop()
        await agent.stop()
        await docker.removeAll(namePrefix: containerPrefix)
    }
}
