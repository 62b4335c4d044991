import Foundation
import NIOWebSocket
import Shared
import Synchronization
import Testing
import TestSupport

extension Integration {
    @Suite struct StreamingTests {
        /// SPEC §4: between `log.history` and the live lines no line is missing or repeated,
        /// while the agent writes all the time and clients come and go.
        @Test func historyAndLiveLinesMeetWithoutGapOrRepeat() async throws {
            let fixture = try await Fixture()
            let agent = fixture.agent
            try await agent.publish(Fixture.web.id, seqs: 1...20)
            let publishing = Atomic<Bool>(true)
            let writer = Task {
                var next = 21
                while publishing.load(ordering: .relaxed) {
                    try await agent.publish(Fixture.web.id, seqs: next...(next + 2))
                    next += 3
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<3 {
                    group.addTask {
                        let socket = try await fixture.connect()
                        var reader = socket.reader()
                        for round in 0..<20 {
                            socket.send(subscribeMessage("web", extra: ["tail": (client * 7 + round) % 12, "batch": round % 2 == 0]))
                            #expect(await reader.next()?.type == "log.subscribed")
                            var seqs = try #require(await reader.next()).seqs
                            // Live lines until a few more than the history arrived.
                            while seqs.count <= 10 + round, let frame = await reader.next() {
                                seqs += frame.seqs
                            }
                            socket.send(unsubscribeMessage("web"))
                            while let frame = await reader.next(), frame.type != "log.unsubscribed" {
                                seqs += frame.seqs
                            }
                            #expect(!seqs.isEmpty)
                            #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $1 == $0 + 1 }, "client \(client) round \(round): \(seqs)")
                        }
                        await socket.close()
                    }
                }
                try await group.waitForAll()
            }
            publishing.store(false, ordering: .relaxed)
            try await writer.value
        }

        @Test func aClientThatDoesNotReadGetsAGapAndSlowsNobody() async throws {
            let fixture = try await Fixture()
            let total = 100_000
            let fast = try await fixture.connect()
            let slow = try await fixture.connect(reading: false)
            fast.send(subscribeMessage("web", extra: ["tail": 0, "batch": true]))
            slow.send(subscribeMessage("web", extra: ["tail": 0, "batch": true]))
            #expect(try await eventually { try await fixture.gateway.get("/metrics", headers: [:]).body.contains("tailgate_gateway_subscriptions 2") })

            let received = Atomic<Int>(0)
            let reading = Task {
                var reader = fast.reader()
                var expected = 1
                var gaps = 0
                while expected <= total, let frame = await reader.next() {
                    if frame.type == "log.gap" { gaps += 1 }
                    for seq in frame.seqs {
                        #expect(seq == expected)
                        expected = seq + 1
                    }
                    received.store(expected - 1, ordering: .relaxed)
                }
                return (expected - 1, gaps)
            }
            var published = 0
            while published < total {
                // The fast client is never more than ~2000 lines (~0.5 MB) behind.
                while published - received.load(ordering: .relaxed) > 2000 { try await Task.sleep(for: .milliseconds(1)) }
                try await fixture.agent.publish(Fixture.web.id, seqs: (published + 1)...(published + 250), messageSize: 100)
                published += 250
            }
            let (fastLast, fastGaps) = await reading.value
            #expect(fastLast == total && fastGaps == 0)
            let rss = try #require(fixture.gateway.residentKiB)
            print("gateway VmRSS after \(total) lines with one stalled client: \(rss / 1024) MiB (\(rss) KiB)")
            #expect(rss < 300 * 1024)

            // The stalled client, reading at last: lines, then log.gap for what it missed; all of it accounted for, in order.
            slow.resumeReading()
            var reader = slow.reader()
            var covered = 0
            var gapFrames = 0
            while covered < total, let frame = await reader.next() {
                if frame.type == "log.gap" {
                    let from = try #require(frame.data["fromSeq"] as? Int)
                    #expect(from == covered + 1)
                    covered = try #require(frame.data["toSeq"] as? Int)
                    gapFrames += 1
                }
                for seq in frame.seqs {
                    #expect(seq == covered + 1)
                    covered = seq
                }
            }
            #expect(covered == total && gapFrames > 0)
            let metrics = try await fixture.gateway.get("/metrics", headers: [:]).body
            #expect(!metrics.contains("tailgate_gateway_lines_dropped_total 0\n"))
        }
    }
}
