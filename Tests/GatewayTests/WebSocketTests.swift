import Foundation
import HTTPTypes
import NIOWebSocket
import Shared
import Testing
import TestSupport

extension Integration {
    @Suite struct WebSocketAccessTests {
        @Test func upgradesOnlyWithATokenAndFromTheGatewaysOwnOrigin() async throws {
            let fixture = try await Fixture(gatewayArguments: ["--token", GatewayProcess.token, "--allowed-origin", "https://logs.example.com"])
            let port = fixture.gateway.port
            func upgrade(_ path: String, _ headers: [String: String]) async throws -> HTTPProbe.Response {
                try await HTTPProbe.request(port: port, path: path, headers: HTTPProbe.upgradeHeaders.merging(headers) { $1 })
            }
            let anonymous = try await upgrade("/api/logs/ws", [:])
            #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized")
            #expect(try await upgrade("/api/logs/ws", ["Authorization": "Bearer wrong"]).status == 401)
            #expect(try await upgrade("/api/agents/host-1/logs/ws", [:]).status == 401)
            #expect(try await upgrade("/api/logs/ws", ["Authorization": "Bearer \(GatewayProcess.token)"]).status == 101)
            #expect(try await upgrade("/api/logs/ws", ["Cookie": "tailgate_token=\(GatewayProcess.token)"]).status == 101)
            #expect(try await upgrade("/api/logs/ws?token=\(GatewayProcess.token)", [:]).status == 101)
            #expect(try await upgrade("/api/agents/host-1/logs/ws?token=\(GatewayProcess.token)", [:]).status == 101)

            let authorized = ["Authorization": "Bearer \(GatewayProcess.token)"]
            let foreign = try await upgrade("/api/logs/ws", authorized.merging(["Origin": "http://evil.example"]) { $1 })
            #expect(foreign.status == 403 && foreign.errorCode == "forbidden")
            #expect(try await upgrade("/api/logs/ws", authorized.merging(["Origin": "http://127.0.0.1:\(port)"]) { $1 }).status == 101)
            #expect(try await upgrade("/api/logs/ws", authorized.merging(["Origin": "https://logs.example.com"]) { $1 }).status == 101)

            // Not an upgrade at all, or a hostile agent id in the path.
            #expect(try await fixture.gateway.get("/api/logs/ws").status == 426)
            let hostile = try await upgrade("/api/agents/%7B/logs/ws", authorized)
            #expect(hostile.status == 400 && hostile.errorCode == "bad_request", "a JSON error, not an upgrade")
            let elsewhere = try await upgrade("/api/agents", authorized)
            #expect(elsewhere.status == 200, "an upgrade header elsewhere is ignored: \(elsewhere.status)")
        }
    }

    @Suite struct ProtocolTests {
        @Test func badMessagesGetErrorsAndTheConnectionStays() async throws {
            let fixture = try await Fixture()
            let socket = try await fixture.connect()
            var reader = socket.reader()
            let bad: [(String, String)] = [
                ("{not json", "bad_json"),
                (#"{"type":"log.tail","data":{}}"#, "unknown_type"),
                (#"{"type":"log.subscribe","data":{"containerId":"web","agentId":"host-1","tail":"x"}}"#, "bad_request"),
                (#"{"type":"log.subscribe","data":{"containerId":"web","agentId":"host-1","tail":-1}}"#, "bad_request"),
                (#"{"type":"log.subscribe","data":{"containerId":"web","agentId":"host-1","sinceSeq":3}}"#, "bad_request"),
                (#"{"type":"log.subscribe","data":{"containerId":"web"}}"#, "bad_request"),
                (#"{"type":"log.subscribe","data":{}}"#, "bad_request"),
                (#"[1,2]"#, "bad_request"),
                (subscribeMessage("*"), "bad_request"),
                (subscribeMessage("web", agent: "*"), "bad_request"),
                (subscribeMessage("a:b"), "bad_request"),
                (subscribeMessage("{x}"), "bad_request"),
                (subscribeMessage("web\nFLUSHALL"), "bad_request"),
                (subscribeMessage("web", agent: "host:1"), "bad_request"),
                (subscribeMessage(String(repeating: "a", count: 10_000)), "bad_request"),
                (#"{"type":"log.subscribe","data":{"containerId":"web","agentId":"host-1"},"pad":"\#(String(repeating: "x", count: 70_000))"}"#, "too_large"),
            ]
            for (message, code) in bad {
                socket.send(message)
                let reply = try #require(await reader.next())
                #expect(reply.type == "error" && reply.errorCode == code, "\(message.prefix(80)) → \(reply)")
            }
            socket.sendBinary(Array(subscribeMessage("web").utf8))
            let binary = try #require(await reader.next())
            #expect(binary.type == "error" && binary.errorCode == "bad_request")

            // Still open: a good message works, with its id echoed.
            socket.send(subscribeMessage("web", id: "ok-1"))
            let subscribed = try #require(await reader.next())
            #expect(subscribed.type == "log.subscribed" && subscribed.id == "ok-1")
            let keys = try await fixture.client.send(RedisCommand("KEYS", "*")).array().compactMap { try $0.string() }
            #expect(keys.allSatisfy { !$0.contains("*") && !$0.contains("\n") })
        }

        @Test func moreThanTwentyBadMessagesInARowClose1008() async throws {
            let fixture = try await Fixture()
            let socket = try await fixture.connect()
            var reader = socket.reader()
            for index in 1...20 {
                socket.send("nope \(index)")
                #expect(await reader.next()?.errorCode == "bad_json")
            }
            socket.send(subscribeMessage("web"))  // a good one resets the count
            #expect(await reader.next()?.type == "log.subscribed")
            #expect(await reader.next()?.type == "log.history")
            for index in 1...21 { socket.send("nope \(index)") }
            var errors = 0
            while let frame = await reader.next() {
                if frame.type == "error" { errors += 1 }
            }
            #expect(errors == 21)
            #expect(reader.serverCloseCode == .policyViolation)
        }

        @Test func atMostOneHundredSubscriptionsPerConnection() async throws {
            let fixture = try await Fixture()
            let containers = (0..<101).map { FakeAgent.container(0x10 + $0, name: "c\($0)") }
            try await fixture.agent.register(containers)
            let socket = try await fixture.connect()
            var reader = socket.reader()
            for container in containers.prefix(100) {
                socket.send(subscribeMessage(container.name, extra: ["tail": 0]))
                #expect(await reader.next("log.history") != nil)
            }
            socket.send(subscribeMessage("c100", id: "one-too-many"))
            let refused = try #require(await reader.next())
            #expect(refused.type == "error" && refused.errorCode == "too_many_subscriptions" && refused.id == "one-too-many")
            socket.send(subscribeMessage("c0", id: "again"))  // already subscribed: still answered
            #expect(await reader.next()?.type == "log.subscribed")
        }

        @Test func resolvesNamesAndPrefixesAndReportsWhatCannotBeFollowed() async throws {
            let fixture = try await Fixture()
            let ghost = try FakeAgent(redis: fixture.client, agent: "ghost")
            try await ghost.register([Fixture.web], online: false)
            let socket = try await fixture.connect()
            var reader = socket.reader()

            for reference in ["web", "/web", String(Fixture.web.id.prefix(6)), Fixture.web.id] {
                socket.send(subscribeMessage(reference, id: reference))
                let subscribed = try #require(await reader.next())
                #expect(subscribed.type == "log.subscribed" && subscribed.id == reference)
                #expect(subscribed.data["containerId"] as? String == Fixture.web.id && subscribed.data["name"] as? String == "web")
                #expect(await reader.next()?.type == "log.history")
            }
            socket.send(subscribeMessage("nothing-here"))
            let missing = try #require(await reader.next())
            #expect(missing.type == "log.stream.error" && missing.errorCode == "not_found")
            socket.send(subscribeMessage("b1b1"))  // a prefix of api only
            #expect(await reader.next()?.type == "log.subscribed")
            _ = await reader.next()
            socket.send(subscribeMessage("b1b"))  // too short to be a prefix: a name nobody has
            #expect(await reader.next()?.errorCode == "not_found")
            try await fixture.agent.register([Fixture.web, Fixture.api, Fixture.worker, FakeAgent.container(0xb1, name: "api-copy")])
            socket.send(subscribeMessage("b1b1b1"))
            let ambiguous = try #require(await reader.next())
            #expect(ambiguous.errorCode == "not_found" && (ambiguous.data["message"] as? String)?.contains("ambiguous") == true)
            socket.send(subscribeMessage("web", agent: "nobody"))
            #expect(await reader.next()?.errorCode == "not_found")

            socket.send(subscribeMessage("web", agent: "ghost", id: "offline"))
            #expect(await reader.next()?.type == "log.subscribed")
            #expect(await reader.next()?.type == "log.history")
            let offline = try #require(await reader.next())
            #expect(offline.type == "log.stream.error" && offline.errorCode == "agent_offline")
            // Still subscribed: lines flow once the agent is back.
            try await ghost.publish(Fixture.web.id, seqs: 1...2)
            #expect(await reader.next()?.seqs == [1])
        }

        @Test func agentRouteFixesTheAgent() async throws {
            let fixture = try await Fixture()
            let socket = try await TestWebSocket(port: fixture.gateway.port, path: "/api/agents/host-1/logs/ws")
            var reader = socket.reader()
            socket.send(subscribeMessage("web", agent: nil))
            #expect(await reader.next()?.data["agentId"] as? String == "host-1")
            _ = await reader.next()
            socket.send(subscribeMessage("web", agent: "other"))
            #expect(await reader.next()?.errorCode == "bad_request")
        }

        @Test func historyLiveLinesEventsAndUnsubscribe() async throws {
            let fixture = try await Fixture()
            try await fixture.agent.publish(Fixture.web.id, seqs: 1...30)
            let socket = try await fixture.connect()
            var reader = socket.reader()
            socket.send(subscribeMessage("web", id: "s", extra: ["tail": 5]))
            let subscribed = try #require(await reader.next())
            #expect(subscribed.data["epoch"] as? String == "epoch1")
            let history = try #require(await reader.next())
            #expect(history.type == "log.history" && history.id == "s" && history.seqs == Array(26...30) && history.data["complete"] as? Bool == true)
            let first = try #require(history.lines.first)
            #expect(first["message"] as? String == "line 26" && first["stream"] as? String == "stdout" && first["agentId"] as? String == "host-1")

            // Subscribing again answers again without doubling live lines.
            socket.send(subscribeMessage("web", extra: ["tail": 0]))
            #expect(await reader.next()?.type == "log.subscribed")
            #expect(await reader.next()?.seqs == [])
            try await fixture.agent.publish(Fixture.web.id, seqs: 31...31)
            try await fixture.agent.publishEvent(Fixture.web.id, json: #"{"type":"log.stream.ended","data":{"agentId":"host-1","containerId":"\#(Fixture.web.id)","reason":"exited (0)"}}"#)
            try await fixture.agent.publish(Fixture.web.id, seqs: 32...32)
            var live: [ReceivedFrame] = []
            for _ in 0..<3 { live.append(try #require(await reader.next())) }
            #expect(live.map(\.type) == ["log.line", "log.stream.ended", "log.line"])
            #expect(live.flatMap(\.seqs) == [31, 32])
            #expect(live[1].data["reason"] as? String == "exited (0)")

            socket.send(unsubscribeMessage(Fixture.web.id, id: "u"))
            let unsubscribed = try #require(await reader.next())
            #expect(unsubscribed.type == "log.unsubscribed" && unsubscribed.id == "u" && unsubscribed.data["containerId"] as? String == Fixture.web.id)
            try await fixture.agent.publish(Fixture.web.id, seqs: 33...33)
            socket.send(unsubscribeMessage("web"))  // not subscribed any more: same answer, no line in between
            #expect(await reader.next()?.type == "log.unsubscribed")
        }

        @Test func resumeGivesExactlyTheMissedLines() async throws {
            let fixture = try await Fixture()
            try await fixture.agent.publish(Fixture.web.id, seqs: 1...100)
            let socket = try await fixture.connect()
            var reader = socket.reader()

            socket.send(subscribeMessage("web", id: "exact", extra: ["sinceSeq": 90, "epoch": "epoch1"]))
            _ = await reader.next("log.subscribed")
            let exact = try #require(await reader.next("log.history"))
            #expect(exact.seqs == Array(91...100) && exact.data["complete"] as? Bool == true)

            socket.send(subscribeMessage("api", extra: ["sinceSeq": 0, "epoch": "nothingyet"]))
            let empty = try #require(await reader.next("log.history"))
            #expect(empty.seqs == [] && empty.data["complete"] as? Bool == false)

            socket.send(subscribeMessage("web", extra: ["sinceSeq": 90, "epoch": "other"]))
            let otherEpoch = try #require(await reader.next("log.history"))
            #expect(otherEpoch.seqs == Array(1...100) && otherEpoch.data["complete"] as? Bool == false)
        }

        @Test func resumeOlderThanTheHistoryIsIncomplete() async throws {
            let fixture = try await Fixture()
            var agent = fixture.agent
            agent.historySize = 50
            try await agent.publish(Fixture.web.id, seqs: 1...100)
            let socket = try await fixture.connect()
            var reader = socket.reader()
            socket.send(subscribeMessage("web", extra: ["sinceSeq": 10, "epoch": "epoch1", "tail": 20]))
            let old = try #require(await reader.next("log.history"))
            #expect(old.seqs == Array(81...100) && old.data["complete"] as? Bool == false)
            socket.send(subscribeMessage("web", extra: ["sinceSeq": 60, "epoch": "epoch1"]))
            let exact = try #require(await reader.next("log.history"))
            #expect(exact.seqs == Array(61...100) && exact.data["complete"] as? Bool == true)
            socket.send(subscribeMessage("web", extra: ["tail": 5000]))
            #expect(try #require(await reader.next("log.history")).seqs == Array(51...100))
        }
    }
}
