import Foundation
import Shared
import Testing
import TestSupport

/// The real agent against the test Docker engine and a private Redis.
@Suite(.serialized, .enabled(if: DockerCLI.isConfigured), .timeLimit(.minutes(3)))
struct AgentIntegrationTests {
    /// A container script printing `tick 1`, `tick 2`, … a line per `interval` seconds, for ever.
    static func ticking(every interval: String) -> String {
        "i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep \(interval); done"
    }

    @Test func publishesStdoutAndStderrInOrderAndKeepsTheLastThousand() async throws {
        let harness = try await AgentHarness()
        // Sleeps first so that every line is printed after the stream started.
        let script = "sleep 2; i=1; while [ $i -le 2500 ]; do echo \"out $i\"; if [ $((i % 5)) -eq 0 ]; then echo \"err $i\" >&2; fi; i=$((i+1)); done; sleep 60"
        try await harness.docker.withContainer(script: script) { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)

            let complete = await harness.eventually(within: .seconds(30)) { recorder.lines.count >= 3000 }
            #expect(complete, "got \(recorder.lines.count) lines; agent log:\n\(harness.agentLog)")
            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(1...lines.count), "seq rises by one per line")
            let out = lines.filter { $0.stream == "stdout" }.map(\.message)
            let err = lines.filter { $0.stream == "stderr" }.map(\.message)
            #expect(out == (1...2500).map { "out \($0)" })
            #expect(err == stride(from: 5, through: 2500, by: 5).map { "err \($0)" })
            #expect(Set(lines.map(\.epoch)).count == 1)
            #expect(lines.allSatisfy { $0.agentId == harness.agentID.rawValue && $0.containerId == id })

            let history = try await harness.history(container)
            #expect(history.count == 1000)
            #expect(history.map(\.seq) == Array((lines.count - 999...lines.count).reversed()), "newest first")
            #expect(history.first == lines.last)
        }
    }

    @Test func streamsOnlyWhileWatched() async throws {
        let harness = try await AgentHarness()
        let script = Self.ticking(every: "0.05")
        try await harness.docker.withContainer(script: script) { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)

            // Nobody watches: nothing is followed, nothing reaches Redis.
            #expect(await harness.eventually(within: .seconds(10)) { (try? await harness.followedStreams()) != nil })
            try await Task.sleep(for: .seconds(2))
            #expect(recorder.lines.isEmpty)
            #expect(try await harness.history(container).isEmpty)
            #expect(try await harness.followedStreams().isEmpty)
            let eventfdsBefore = try #require(harness.agent.eventfdCount)

            let started = ContinuousClock.now
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(5)) { !recorder.lines.isEmpty })
            #expect(ContinuousClock.now - started < .seconds(1), "first line within 1 s of log.stream.start")
            #expect(harness.agent.eventfdCount == eventfdsBefore + 1, "the stream's thread waits on a wake-up of its own")

            try await harness.unwatch(container)
            try await Task.sleep(for: .seconds(1))
            let countAfterStop = recorder.lines.count
            try await Task.sleep(for: .seconds(1))
            #expect(recorder.lines.count == countAfterStop, "no line more than 1 s after log.stream.stop")
            #expect(await harness.eventually(within: .seconds(5)) { (try? await harness.followedStreams())?.isEmpty == true })
            // The stream's thread has ended and released its wake-up; its Docker socket and Redis
            // connection belong to the same `LogFollower`, released with it.
            #expect(await harness.eventually(within: .seconds(5)) { harness.agent.eventfdCount == eventfdsBefore })
        }
    }

    @Test func referenceOfDeadGatewayStopsCountingWithinFifteenSeconds() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(script: "while true; do echo tick; sleep 0.1; done") { id, _ in
            let container = try ContainerID(id)
            // A gateway that took its lease and died: no renewal, no stop message.
            try await harness.watch(container, lease: .seconds(Leases.referenceLease.seconds))
            #expect(await harness.eventually(within: .seconds(5)) { (try? await harness.followedStreams()) == [id] })
            let leaseTaken = ContinuousClock.now
            #expect(await harness.eventually(within: .seconds(20)) { (try? await harness.followedStreams())?.isEmpty == true })
            #expect(ContinuousClock.now - leaseTaken < .seconds(15))
        }
    }

    @Test func survivesSIGKILLWithoutGapOrDuplicate() async throws {
        let harness = try await AgentHarness()
        let script = "i=0; while true; do i=$((i+1)); echo \"n $i\"; if [ $((i % 3)) -eq 0 ]; then echo \"e $i\" >&2; fi; sleep 0.005; done"
        try await harness.docker.withContainer(script: script) { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(10)) { recorder.lines.count >= 200 })

            harness.agent.kill()
            let atKill = recorder.lines.count
            try await Task.sleep(for: .seconds(1))
            try harness.agent.start()
            #expect(await harness.eventually(within: .seconds(20)) { recorder.lines.count >= atKill + 400 }, "agent log:\n\(harness.agentLog)")

            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(1...lines.count), "seq continues with no gap and no duplicate")
            #expect(Set(lines.map(\.epoch)).count == 1)
            // Content too: the numbers each stream printed are contiguous.
            let stdoutNumbers = lines.filter { $0.stream == "stdout" }.compactMap { Int($0.message.dropFirst(2)) }
            #expect(stdoutNumbers == Array(stdoutNumbers[0]..<(stdoutNumbers[0] + stdoutNumbers.count)))
            let stderrNumbers = lines.filter { $0.stream == "stderr" }.compactMap { Int($0.message.dropFirst(2)) }
            #expect(stderrNumbers == stride(from: stderrNumbers[0], to: stderrNumbers[0] + 3 * stderrNumbers.count, by: 3).map { $0 })
        }
    }

    @Test func containerStopEndsTheStreamAndStartResumesIt() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(script: "sleep 1; echo first; echo second; sleep 1") { id, name in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)

            #expect(await harness.eventually(within: .seconds(15)) { recorder.sawStreamEnded }, "agent log:\n\(harness.agentLog)")
            #expect(recorder.lines.map(\.message) == ["first", "second"])

            try await harness.docker.run(["start", name])
            #expect(await harness.eventually(within: .seconds(15)) { recorder.lines.count >= 4 })
            let lines = recorder.lines
            #expect(lines.map(\.message) == ["first", "second", "first", "second"])
            #expect(lines.map(\.seq) == [1, 2, 3, 4])
            #expect(Set(lines.map(\.epoch)).count == 1, "same epoch after a restart")
        }
    }

    @Test func ttyContainerStreamsAsTTY() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(tty: true, script: "sleep 1; echo hello tty; printf 'no newline'; sleep 60") { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(10)) { !recorder.lines.isEmpty })
            let line = try #require(recorder.lines.first)
            #expect(line.stream == "tty")
            #expect(line.message == "hello tty")
        }
    }

    /// Docker ends a live follow before it reads a container's last output without newline;
    /// the agent reads the finished log once more, so that line goes out before the end.
    @Test func unfinishedLastLineOfAStoppedTTYContainerIsPublished() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(tty: true, script: "sleep 1; echo one; printf 'last words'") { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(15)) { recorder.sawStreamEnded }, "agent log:\n\(harness.agentLog)")
            #expect(recorder.lines.map(\.message) == ["one", "last words"])
            #expect(recorder.lines.map(\.seq) == [1, 2])
        }
    }

    @Test func recoversFromRedisRestart() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(script: Self.ticking(every: "0.05")) { id, _ in
            let container = try ContainerID(id)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(10)) { (try? await harness.history(container).count) ?? 0 > 5 })

            // Restarted empty (no persistence): references, registry and history are gone.
            harness.redisServer.kill()
            try await Task.sleep(for: .seconds(1))
            try await harness.redisServer.start()
            let recorder = try await ChannelRecorder(harness, container)
            // A gateway renewing its lease re-takes the reference and sends start again.
            try await harness.watch(container)

            #expect(await harness.eventually(within: .seconds(15)) { recorder.lines.count >= 5 }, "agent log:\n\(harness.agentLog)")
            #expect(await harness.eventually(within: .seconds(10)) { (try? await harness.followedStreams()) == [id] })
            let containers = try await harness.redis.send(RedisCommand("GET", .string(harness.keys.containers(harness.agentID)))).string()
            #expect(containers?.contains(id) == true, "container list re-published")
            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(lines[0].seq..<(lines[0].seq + lines.count)), "contiguous after recovery")
        }
    }

    /// A transaction with a command Redis refuses to queue (`NOPERM`: the agent's ACL user
    /// may not `PUBLISH`) applies nothing: `EXEC` answers `EXECABORT`. The batch is sent
    /// again, never skipped, and once Redis allows it, every line arrives from the first.
    @Test func sendsARefusedBatchAgainUntilRedisTakesIt() async throws {
        let harness = try await AgentHarness(agentUser: ("tailgate-agent", "secret"))
        try await harness.docker.withContainer(script: Self.ticking(every: "0.02")) { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(10)) { harness.agentLog.contains("no permissions to run the 'publish' command") }, "agent log:\n\(harness.agentLog)")
            #expect(try await harness.history(container).isEmpty, "nothing of a refused transaction applied")
            #expect(recorder.lines.isEmpty)

            try await harness.redisServer.cli("ACL", "SETUSER", "tailgate-agent", "+publish")
            #expect(await harness.eventually(within: .seconds(20)) { recorder.lines.count >= 50 }, "agent log:\n\(harness.agentLog)")
            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(1...lines.count), "every line once, from the first")
            #expect(harness.agentLog.contains("writing log lines to Redis again"))
        }
    }

    /// Redis does not undo a transaction whose command fails as it runs: with the history
    /// key taken by a string, each batch's `LPUSH` fails and the rest applies. The lines
    /// still go out, once, and the agent says what Redis refused.
    @Test func publishesEveryLineOnceWhenRedisRefusesTheHistoryPush() async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(script: Self.ticking(every: "0.02")) { id, _ in
            let container = try ContainerID(id)
            try await harness.redis.send(RedisCommand("SET", .string(harness.keys.history(harness.agentID, container)), "not a list"))
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)

            #expect(await harness.eventually(within: .seconds(10)) { recorder.lines.count >= 50 }, "agent log:\n\(harness.agentLog)")
            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(1...lines.count), "every line once")
            #expect(harness.agentLog.contains("Redis refused part of a batch"))
            #expect(harness.agentLog.contains("WRONGTYPE"))
        }
    }

    /// A batch whose replies do not come in time is sent again on a new connection, after a
    /// check that it is not in Redis already. Redis stalls past the agent's 5 s reply timeout:
    /// `CLIENT PAUSE … WRITE` holds the transaction's `EXEC`, and drops it with its closed
    /// connection; `DEBUG SLEEP` stalls all of Redis, which then applies the first sending
    /// and loses its reply. Either way no line is lost, and none repeated.
    @Test(arguments: [["CLIENT", "PAUSE", "6500", "WRITE"], ["DEBUG", "SLEEP", "6"]])
    func keepsEveryLineOnceWhenRedisStallsPastTheReplyTimeout(stall: [String]) async throws {
        let harness = try await AgentHarness()
        try await harness.docker.withContainer(script: Self.ticking(every: "0.02")) { id, _ in
            let container = try ContainerID(id)
            let recorder = try await ChannelRecorder(harness, container)
            try await harness.watch(container)
            #expect(await harness.eventually(within: .seconds(10)) { recorder.lines.count >= 5 })

            let countAtStall = recorder.lines.count
            async let stalled = harness.redisServer.cli(stall)
            #expect(await harness.eventually(within: .seconds(30)) { recorder.lines.count >= countAtStall + 400 }, "agent log:\n\(harness.agentLog)")
            _ = try await stalled
            let lines = recorder.lines
            #expect(lines.map(\.seq) == Array(lines[0].seq..<(lines[0].seq + lines.count)), "on the channel, no line lost or repeated")
            #expect(lines.map(\.message) == lines.indices.map { "tick \(Int(lines[0].message.dropFirst(5))! + $0)" })
            let history = try await harness.history(container).reversed().map(\.seq)
            #expect(history == Array(history[0]..<(history[0] + history.count)), "in the history, no line lost or repeated")
            #expect(harness.agentLog.contains("cannot write log lines to Redis"), "the stall was met")
            #expect(harness.agentLog.contains("writing log lines to Redis again"), "and survived")
        }
    }
}
