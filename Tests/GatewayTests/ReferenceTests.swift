import Foundation
import Glibc
import NIOWebSocket
import Shared
import Testing
import TestSupport

extension Integration {
    @Suite struct ReferenceTests {
        @Test func firstClientStartsTheStreamAndTheLastStopsItAfterALinger() async throws {
            let fixture = try await Fixture()
            let control = try await ControlListener(redis: fixture.redis, agent: "host-1")
            let first = try await fixture.connect()
            var firstReader = first.reader()
            first.send(subscribeMessage("web"))
            _ = await firstReader.next("log.history")
            #expect(try await eventually { control.count(.start, Fixture.web) == 1 }, "\(control.received)")
            let refs = fixture.agent.keys.refs(fixture.agent.agent, try ContainerID(Fixture.web.id))
            let members = try await fixture.client.send(RedisCommand("ZRANGE", .string(refs), 0, -1, "WITHSCORES")).array()
            #expect(members.count == 2)
            #expect(try members[0].string()?.hasPrefix("gw-") == true)
            let deadline = try #require(Int64(try members[1].string() ?? ""))
            #expect(deadline > Leases.milliseconds() && deadline <= Leases.milliseconds(plus: Leases.referenceLease))
            #expect(try await fixture.zcountLiveRefs(Fixture.web) == 1)

            // A second client shares the reference: no second start.
            let second = try await fixture.connect()
            var secondReader = second.reader()
            second.send(subscribeMessage(Fixture.web.id))
            _ = await secondReader.next("log.history")
            await first.close()
            // A page reload: the last client leaves and one comes back within the linger.
            second.send(unsubscribeMessage("web"))
            _ = await secondReader.next("log.unsubscribed")
            try await Task.sleep(for: .milliseconds(500))
            second.send(subscribeMessage("web"))
            _ = await secondReader.next("log.history")
            try await Task.sleep(for: .seconds(3))
            #expect(control.count(.start, Fixture.web) == 1 && control.count(.stop, Fixture.web) == 0)

            // The renewal keeps the lease ahead of the clock.
            try await Task.sleep(for: Leases.renewInterval)
            let renewed = try await fixture.client.send(RedisCommand("ZSCORE", .string(refs), .string(try members[0].string() ?? ""))).string()
            #expect(Int64(renewed ?? "0")! > deadline)

            await second.close()
            try await Task.sleep(for: .seconds(1))
            #expect(control.count(.stop, Fixture.web) == 0)
            #expect(try await eventually { control.count(.stop, Fixture.web) == 1 })
            #expect(try await fixture.zcountLiveRefs(Fixture.web) == 0)
        }

        @Test func aKilledGatewaysReferenceStopsCountingWithinTheLease() async throws {
            let fixture = try await Fixture()
            let socket = try await fixture.connect()
            var reader = socket.reader()
            socket.send(subscribeMessage("web"))
            _ = await reader.next("log.history")
            #expect(try await fixture.zcountLiveRefs(Fixture.web) == 1)
            let killedAt = ContinuousClock.now
            fixture.gateway.process.signal(SIGKILL)
            #expect(try await eventually(timeout: .seconds(15)) { try await fixture.zcountLiveRefs(Fixture.web) == 0 })
            #expect(ContinuousClock.now - killedAt <= Leases.referenceLease + .seconds(1))
        }

        @Test func sigtermClosesWebSocketsWith1001AndReleasesReferencesWithin5Seconds() async throws {
            let fixture = try await Fixture()
            let control = try await ControlListener(redis: fixture.redis, agent: "host-1")
            let socket = try await fixture.connect()
            var reader = socket.reader()
            socket.send(subscribeMessage("web"))
            _ = await reader.next("log.history")
            // A client that stopped reading, its socket full: it cannot even get the close frame.
            let stalled = try await fixture.connect(reading: false)
            stalled.send(subscribeMessage("api", extra: ["tail": 0]))
            #expect(try await eventually { try await fixture.zcountLiveRefs(Fixture.api) == 1 })
            for first in stride(from: 1, to: 40_000, by: 1000) {
                try await fixture.agent.publish(Fixture.api.id, seqs: first...(first + 999), messageSize: 200)
            }
            let stoppingAt = ContinuousClock.now
            fixture.gateway.process.signal(SIGTERM)
            #expect(await reader.closed() == .goingAway)
            let status = await fixture.gateway.process.exit()
            #expect(status == 0)
            #expect(ContinuousClock.now - stoppingAt < .seconds(5))
            #expect(try await eventually(timeout: .seconds(2)) { control.count(.stop, Fixture.web) == 1 && control.count(.stop, Fixture.api) == 1 })
            #expect(try await fixture.zcountLiveRefs(Fixture.web) == 0)
            #expect(try await fixture.zcountLiveRefs(Fixture.api) == 0)
        }
    }

    @Suite struct RedisOutageTests {
        @Test func recoversFromARedisRestartUnderALiveStream() async throws {
            let fixture = try await Fixture()
            let socket = try await fixture.connect()
            var reader = socket.reader()
            socket.send(subscribeMessage("web", extra: ["tail": 0, "batch": true]))
            _ = await reader.next("log.history")
            try await fixture.agent.publish(Fixture.web.id, seqs: 1...50)
            var seqs: [Int] = []
            while seqs.last != 50, let frame = await reader.next() { seqs += frame.seqs }

            fixture.redis.kill()
            let outage = try #require(await reader.next())
            #expect(outage.type == "log.stream.error" && outage.errorCode == "internal")
            try await fixture.redis.start()
            // The agent carries on in the new, empty Redis.
            try await fixture.agent.register([Fixture.web, Fixture.api, Fixture.worker])
            for batch in stride(from: 51, to: 100, by: 10) {
                try await fixture.agent.publish(Fixture.web.id, seqs: batch...(batch + 9))
                try await Task.sleep(for: .milliseconds(100))
            }
            while seqs.last != 100, let frame = await reader.next() {
                #expect(frame.type != "log.gap", "\(frame)")
                seqs += frame.seqs
            }
            #expect(seqs == Array(1...100))
            // The reference is back in the new Redis: the agent's reconcile counts it. (Whether the
            // gateway's `log.stream.start` reaches a listener depends on who reconnects first.)
            #expect(try await eventually { try await fixture.zcountLiveRefs(Fixture.web) == 1 })
            // At least this restart; a loaded machine may add a reconnect after a slow PING.
            let metrics = try await fixture.gateway.get("/metrics", headers: [:]).body
            let reconnects = metrics.split(separator: "\n").first { $0.hasPrefix("tailgate_gateway_redis_reconnects_total ") }
            #expect((reconnects?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 1, "\(String(describing: reconnects))")
        }
    }
}
