import Foundation
import Glibc
import Shared
import Testing
import TestSupport

/// The whole product: the real agent on the test Docker engine, real gateways, WebSocket clients.
@Suite(.serialized, .enabled(if: DockerCLI.isConfigured), .timeLimit(.minutes(5)))
struct EndToEndTests {
    /// Redis, one agent and `gatewayCount` gateways on it.
    final class Stack: Sendable {
        let redis: RedisServer
        let client: RedisClient
        let agent: AgentProcess
        let gateways: [GatewayProcess]
        let docker = DockerCLI()

        init(gatewayCount: Int = 1) async throws {
            redis = try await RedisServer()
            client = RedisClient(configuration: redis.configuration(), logger: testLogger)
            agent = try AgentProcess(redis: redis.url, dockerHost: docker.host)
            var gateways: [GatewayProcess] = []
            for _ in 0..<gatewayCount { gateways.append(try await GatewayProcess(redis: redis)) }
            self.gateways = gateways
        }

        deinit { client.close() }

        var agentID: String { agent.agentID.rawValue }

        /// Waits until the agent has listed `name` (it subscribes by name through that list).
        func waitUntilListed(_ name: String) async throws {
            let listed = try await eventually(timeout: .seconds(15)) {
                let json = try await self.client.send(RedisCommand("GET", .string(RedisKeys().containers(self.agent.agentID)))).string()
                return json?.contains("\"\(name)\"") == true
            }
            #expect(listed, "agent log:\n\(agent.log)")
        }

        func followedStreams() async throws -> [String] {
            guard let json = try await client.send(RedisCommand("HGET", .string(RedisKeys().agent(agent.agentID)), "streams")).string() else { return [] }
            return try JSONDecoder().decode([String].self, from: Data(json.utf8))
        }

        func liveReferences(_ container: String) async throws -> Int {
            let key = RedisKeys().refs(agent.agentID, try ContainerID(container))
            return try await client.send(RedisCommand("ZCOUNT", .string(key), .string(String(Leases.milliseconds())), "+inf")).int()
        }
    }

    /// Subscribes and reads the history then `liveCount` live lines; returns all their seqs in order.
    private func watch(
        _ socket: TestWebSocket, _ name: String, agent: String, liveCount: Int, extra: [String: Any] = [:]
    ) async throws -> (subscribed: ReceivedFrame?, history: ReceivedFrame?, seqs: [Int], epoch: String?) {
        socket.send(subscribeMessage(name, agent: agent, extra: extra))
        var reader = socket.reader()
        let subscribed = await reader.next("log.subscribed")
        let history = await reader.next("log.history")
        var seqs = history?.seqs ?? []
        var epoch = history?.lines.last?["epoch"] as? String
        let wanted = seqs.count + liveCount
        while seqs.count < wanted, let frame = await reader.next() {
            seqs += frame.seqs
            epoch = frame.lines.last?["epoch"] as? String ?? epoch
        }
        return (subscribed, history, seqs, epoch)
    }

    private func isContiguous(_ seqs: [Int]) -> Bool {
        guard let first = seqs.first else { return false }
        return seqs == Array(first..<(first + seqs.count))
    }

    @Test func twoGatewaysThreeClientsAndCrashSafeReferences() async throws {
        let stack = try await Stack(gatewayCount: 2)
        let script = "i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.02; done"
        try await stack.docker.withContainer(script: script) { id, name in
            try await stack.waitUntilListed(name)
            let clients = [
                try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws"),
                try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws"),
                try await TestWebSocket(port: stack.gateways[1].port, path: "/api/agents/\(stack.agentID)/logs/ws"),
            ]
            for client in clients {
                let (subscribed, history, seqs, _) = try await watch(client, name, agent: stack.agentID, liveCount: 30)
                #expect(subscribed?.data["containerId"] as? String == id, "the full id answers a name")
                #expect(history != nil)
                #expect(isContiguous(seqs), "history then live, no gap or duplicate: \(seqs)")
            }
            #expect(try await eventually { try await stack.followedStreams() == [id] })
            #expect(try await stack.liveReferences(id) == 2, "one reference per gateway, not per client")

            // Two leave; the stream goes on for the one left.
            await clients[0].close()
            await clients[2].close()
            try await Task.sleep(for: .seconds(5))
            #expect(try await stack.followedStreams() == [id])
            var reader = clients[1].reader()
            #expect(await reader.next("log.line") != nil)

            // The last one leaves: the agent stops within 15 s.
            await clients[1].close()
            #expect(try await eventually(timeout: .seconds(15)) { try await stack.followedStreams().isEmpty })

            // A gateway killed with clients on it: its reference stops counting within 15 s.
            let doomed = try await TestWebSocket(port: stack.gateways[1].port, path: "/api/logs/ws")
            _ = try await watch(doomed, name, agent: stack.agentID, liveCount: 5)
            #expect(try await stack.liveReferences(id) == 1)
            stack.gateways[1].process.signal(SIGKILL)
            let killed = ContinuousClock.now
            #expect(try await eventually(timeout: .seconds(20)) { try await stack.liveReferences(id) == 0 })
            #expect(ContinuousClock.now - killed < .seconds(15))
            #expect(try await eventually(timeout: .seconds(10)) { try await stack.followedStreams().isEmpty })
        }
    }

    @Test func seamHoldsUnderLoadForTwentyCycles() async throws {
        let stack = try await Stack()
        // As fast as busybox sh can print.
        let script = "i=0; while true; do i=$((i+1)); echo $i; done"
        try await stack.docker.withContainer(script: script) { _, name in
            try await stack.waitUntilListed(name)
            for cycle in 1...20 {
                let client = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
                let (_, history, seqs, _) = try await watch(client, name, agent: stack.agentID, liveCount: 100)
                let historyCount = history?.seqs.count ?? 0
                #expect(seqs.count == historyCount + 100, "cycle \(cycle): live lines followed the history")
                #expect(isContiguous(seqs), "cycle \(cycle): history \(historyCount) lines, then live, contiguous")
                client.send(unsubscribeMessage(name, agent: stack.agentID))
                await client.close()
            }
        }
    }

    @Test func resumeGivesExactlyTheMissedLines() async throws {
        let stack = try await Stack()
        let script = "i=0; while true; do i=$((i+1)); echo \"n $i\"; sleep 0.002; done"
        try await stack.docker.withContainer(script: script) { id, name in
            try await stack.waitUntilListed(name)
            let first = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            // A new stream's log.subscribed may carry no epoch yet: the lines carry it.
            let (_, _, seqs, lineEpoch) = try await watch(first, name, agent: stack.agentID, liveCount: 20)
            let epoch = try #require(lineEpoch)
            let lastSeen = try #require(seqs.last)
            await first.close()

            // Another client keeps the stream alive while the first is away; 200 lines go by.
            let keeper = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            _ = try await watch(keeper, name, agent: stack.agentID, liveCount: 1)
            let meta = RedisKeys().meta(stack.agent.agentID, try ContainerID(id))
            #expect(try await eventually(timeout: .seconds(20)) {
                try await stack.client.send(RedisCommand("HGET", .string(meta), "seq")).int() >= lastSeen + 200
            })

            let resumed = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            resumed.send(subscribeMessage(name, agent: stack.agentID, extra: ["sinceSeq": lastSeen, "epoch": epoch]))
            var reader = resumed.reader()
            let history = try #require(await reader.next("log.history"))
            #expect(history.data["complete"] as? Bool == true)
            #expect(history.seqs.first == lastSeen + 1, "exactly from the first missed line")
            #expect(history.seqs.count >= 200 && isContiguous(history.seqs))

            let wrongEpoch = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            wrongEpoch.send(subscribeMessage(name, agent: stack.agentID, extra: ["sinceSeq": lastSeen, "epoch": "0000000000000000"]))
            var wrongReader = wrongEpoch.reader()
            #expect(await wrongReader.next("log.history")?.data["complete"] as? Bool == false)

            // Once more than the history (1000 lines) went by, seq 1 is too old to resume from.
            #expect(try await eventually(timeout: .seconds(60)) {
                try await stack.client.send(RedisCommand("HGET", .string(meta), "seq")).int() > 1100
            })
            let tooOld = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            tooOld.send(subscribeMessage(name, agent: stack.agentID, extra: ["sinceSeq": 1, "epoch": epoch]))
            var oldReader = tooOld.reader()
            let subscribedAgain = await oldReader.next()
            #expect(subscribedAgain?.type == "log.subscribed", "\(String(describing: subscribedAgain))")
            let oldHistory = await oldReader.next()
            #expect(oldHistory?.type == "log.history", "\(String(describing: oldHistory))")
            #expect(oldHistory?.data["complete"] as? Bool == false)
        }
    }

    @Test func clientsRecoverWhenRedisRestartsUnderALiveStream() async throws {
        let stack = try await Stack()
        try await stack.docker.withContainer(script: "i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.05; done") { _, name in
            try await stack.waitUntilListed(name)
            let client = try await TestWebSocket(port: stack.gateways[0].port, path: "/api/logs/ws")
            _ = try await watch(client, name, agent: stack.agentID, liveCount: 5)

            // Restarted empty: the gateway must re-subscribe and re-take its reference, the agent resume.
            stack.redis.kill()
            try await Task.sleep(for: .seconds(1))
            try await stack.redis.start()

            var reader = client.reader()
            var sawOutage = false
            var linesAfter = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while linesAfter < 10, ContinuousClock.now < deadline, let frame = await reader.next() {
                if frame.type == "log.stream.error" || frame.type == "log.gap" || frame.data["complete"] as? Bool == false { sawOutage = true }
                if sawOutage { linesAfter += frame.seqs.count }
            }
            #expect(sawOutage, "the client is told lines may be missing")
            #expect(linesAfter >= 10, "live lines flow again on the same connection; agent log:\n\(stack.agent.log)")
            // The command connections come back on their own backoff, not necessarily before the subscriber.
            #expect(try await eventually { try await stack.gateways[0].get("/healthz").status == 200 })
        }
    }
}
