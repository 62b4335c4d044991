import Foundation
import NIOCore
import Testing
import TestSupport
@testable import AgentService

/// Runs against a real engine: set TAILGATE_TEST_DOCKER_HOST (and TAILGATE_TEST_IMAGE, a local
/// image with busybox sh). Serialized so that containers and open sockets are easy to reason about.
@Suite(.serialized, .enabled(if: DockerCLI.isConfigured), .timeLimit(.minutes(1)))
struct DockerClientIntegrationTests {
    let cli = DockerCLI()

    func withClient<Result>(_ body: (DockerClient) async throws -> Result) async throws -> Result {
        let client = try await DockerClient.connect(to: DockerEndpoint(parsing: cli.host))
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func negotiatesTheAPIVersion() async throws {
        try await withClient { client in
            let engine = client.engineVersion
            #expect(!engine.version.isEmpty)
            let engineMaximum = try #require(DockerAPIVersion(engine.apiVersion))
            #expect(client.apiVersion == DockerAPIVersion.negotiate(
                engineMaximum: engineMaximum, engineMinimum: engine.minAPIVersion.flatMap(DockerAPIVersion.init)))
            #expect(try await client.version() == engine)
        }
    }

    @Test func listsAContainerItWasToldAbout() async throws {
        try await cli.withContainer(script: "sleep 30") { id, name in
            try await withClient { client in
                let container = try #require(try await client.listContainers(all: true).first { $0.id == id })
                #expect(container.name == name)
                #expect(container.image == cli.image, "the image as it was named at run time")
                #expect(container.state == "running")
                #expect(container.status.hasPrefix("Up"))
                #expect(abs(container.created.timeIntervalSinceNow) < 60)
            }
        }
    }

    @Test(arguments: [false, true])
    func inspectReportsTTY(tty: Bool) async throws {
        try await cli.withContainer(tty: tty, script: "sleep 30") { id, name in
            try await withClient { client in
                let details = try await client.inspect(id)
                #expect(details.id == id)
                #expect(details.name == name)
                #expect(details.image == cli.image)
                #expect(details.tty == tty)
                #expect(details.running)
                #expect(details.state == "running")
                #expect(details.startedAt != nil)
                #expect(try await client.inspect(name).id == id, "a name works as well as an id")
            }
        }
    }

    @Test func logsOfAFinishedContainerAreFramedPerStream() async throws {
        // stdout and stderr are separate pipes: without the pauses Docker may log them in either order.
        try await cli.withContainer(script: "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2") { id, _ in
            try await cli.wait(id)
            try await withClient { client in
                let body = try await DockerLogSocket.collect(client.logRequest(id: id, follow: false))
                let frames = try #require(LogFrame.demultiplex(body), "non-TTY logs carry 8-byte frame headers")
                #expect(frames.map(\.stream) == [1, 2, 1])
                #expect(frames.map { $0.message } == ["out1", "err1", "out2"])
                #expect(frames.allSatisfy { $0.timestamp.hasSuffix("Z") })
            }
        }
    }

    @Test func logsOfATTYContainerAreRaw() async throws {
        try await cli.withContainer(tty: true, script: "echo hello") { id, _ in
            try await cli.wait(id)
            try await withClient { client in
                let text = String(decoding: try await DockerLogSocket.collect(client.logRequest(id: id, follow: false)), as: UTF8.self)
                #expect(text.first == "2", "starts with the timestamp, no frame header")
                #expect(text.hasSuffix(" hello\r\n"), "a TTY turns \\n into \\r\\n")
            }
        }
    }

    /// The agent fills a gap with `since` = the last timestamp it has, so it must know Docker
    /// repeats lines stamped exactly then; and that `tail` is applied before `since`.
    @Test func sinceIsInclusiveAndTailComesFirst() async throws {
        try await cli.withContainer(script: "echo one; sleep 0.1; echo two; sleep 0.1; echo three") { id, _ in
            try await cli.wait(id)
            try await withClient { client in
                func messages(since: String?, tail: Int?) async throws -> [String] {
                    let body = try await DockerLogSocket.collect(client.logRequest(id: id, follow: false, since: since, tail: tail))
                    return try #require(LogFrame.demultiplex(body)).map(\.message)
                }
                let frames = try #require(LogFrame.demultiplex(try await DockerLogSocket.collect(client.logRequest(id: id, follow: false))))
                let secondStamp = try #require(LogFrame.dockerSince(rfc3339: frames[1].timestamp))
                #expect(try await messages(since: secondStamp, tail: nil) == ["two", "three"])
                #expect(try await messages(since: nil, tail: 1) == ["three"])
                #expect(try await messages(since: secondStamp, tail: 1) == ["three"])
                #expect(try await messages(since: nil, tail: 0) == [])
            }
        }
    }

    @Test func followStreamsNewLinesAndStopsWhenCancelled() async throws {
        let script = "i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done"
        try await cli.withContainer(script: script) { id, _ in
            try await withClient { client async throws in
                let (chunks, chunkSink) = AsyncStream.makeStream(of: (String, ContinuousClock.Instant).self)
                let reader = Task {
                    defer { chunkSink.finish() }
                    try await DockerLogSocket.readAll(client.logRequest(id: id, follow: true, tail: 0)) { chunk in
                        chunkSink.yield((String(decoding: chunk, as: UTF8.self), .now))
                    }
                }
                var ticks: [Int] = []
                var arrivals: [ContinuousClock.Instant] = []
                for await (text, arrival) in chunks {
                    ticks += text.split(separator: "tick").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
                    arrivals.append(arrival)
                    if ticks.count >= 5 { break }
                }
                #expect(ticks == Array(ticks[0]..<ticks[0] + ticks.count), "consecutive lines, none lost")
                #expect(try #require(arrivals.last) - arrivals[0] > .milliseconds(500), "lines arrive as printed, not at the end")

                let socketsWhileStreaming = Self.openSocketCount()
                let cancelled = ContinuousClock.now
                reader.cancel()
                _ = await reader.result
                #expect(ContinuousClock.now - cancelled < .seconds(1))
                #expect(try await Self.eventually { Self.openSocketCount() < socketsWhileStreaming }, "the connection is closed")
            }
        }
    }

    @Test func followEndsWhenTheContainerStops() async throws {
        try await cli.withContainer(script: "echo first; sleep 1; echo last") { id, _ in
            try await withClient { client in
                let frames = try #require(LogFrame.demultiplex(try await DockerLogSocket.collect(client.logRequest(id: id, follow: true))))
                #expect(frames.map(\.message) == ["first", "last"])
            }
        }
    }

    /// Followed logs each hold a connection for as long as they run; lists and inspects must still get through.
    @Test func manyFollowedLogsDoNotStarveOtherRequests() async throws {
        try await cli.withContainer(script: "sleep 30") { id, _ in
            try await withClient { client in
                let (opened, openedSink) = AsyncStream.makeStream(of: Void.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<12 {
                        group.addTask {
                            // Until cancelled below.
                            _ = try? await DockerLogSocket.readAll(client.logRequest(id: id, follow: true, tail: 0), onOpen: { openedSink.yield() }) { _ in }
                        }
                    }
                    var openCount = 0
                    for await _ in opened {
                        openCount += 1
                        if openCount == 12 { break }
                    }
                    #expect(try await client.listContainers().contains { $0.id == id })
                    #expect(try await client.inspect(id).running)
                    group.cancelAll()
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func eventsReportStartThenDie() async throws {
        try await withClient { client in
            try await client.withEvents { events in
                try await cli.withContainer(script: "echo hi") { id, name in
                    var seen: [ContainerEvent] = []
                    for try await event in events where event.containerId == id {
                        seen.append(event)
                        if event.action == .die { break }
                    }
                    #expect(seen.map(\.action) == [.create, .start, .die])
                    #expect(seen.allSatisfy { $0.name == name })
                }
            }
        }
    }

    @Test func unknownContainerIsNotFound() async throws {
        try await withClient { client in
            let name = "tailgate-no-such-container"
            await #expect(throws: DockerError.self) { _ = try await client.inspect(name) }
            do {
                try await DockerLogSocket.collect(client.logRequest(id: name, follow: true))
                Issue.record("expected notFound")
            } catch let DockerError.notFound(reported) {
                #expect(reported == name)
            }
        }
    }

    @Test func refusedRequestCarriesDockersMessage() async throws {
        try await cli.withContainer(script: "echo x") { id, _ in
            try await withClient { client in
                do {
                    try await DockerLogSocket.collect(client.logRequest(id: id, follow: false, since: "not-a-time"))
                    Issue.record("expected an HTTP error")
                } catch let DockerError.http(status, message) {
                    #expect(status >= 400)
                    #expect(message.contains("not-a-time"))
                }
            }
        }
    }
}

/// Helpers for reading what Docker sent, kept inside the suite so their names stay local.
extension DockerClientIntegrationTests {
    /// One frame of Docker's multiplexed log body, with the timestamp split off.
    struct LogFrame {
        /// 1 = stdout, 2 = stderr.
        let stream: UInt8
        let timestamp: String
        let message: String

        /// Parses `[stream, 0, 0, 0, size (4 bytes big-endian)] payload` frames; nil if the bytes are not framed so.
        static func demultiplex(_ bytes: [UInt8]) -> [LogFrame]? {
            var frames: [LogFrame] = []
            var offset = 0
            while offset < bytes.count {
                guard offset + 8 <= bytes.count, [1, 2].contains(bytes[offset]), bytes[offset + 1..<offset + 4].allSatisfy({ $0 == 0 }) else {
                    return nil
                }
                let size = bytes[offset + 4..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
                guard offset + 8 + size <= bytes.count else { return nil }
                var text = String(decoding: bytes[offset + 8..<offset + 8 + size], as: UTF8.self)
                if text.hasSuffix("\n") { text.removeLast() }
                let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                frames.append(LogFrame(stream: bytes[offset], timestamp: String(parts[0]), message: parts.count > 1 ? String(parts[1]) : ""))
                offset += 8 + size
            }
            return frames
        }

        /// `2026-11-25T00:32:10.041134144Z` -> `1795566730.041134144`, exactly (a Double would round the nanoseconds).
        static func dockerSince(rfc3339 stamp: String) -> String? {
            guard stamp.hasSuffix("Z"), let dot = stamp.firstIndex(of: ".") else { return nil }
            let fraction = stamp[stamp.index(after: dot)..<stamp.index(before: stamp.endIndex)]
            guard let seconds = ISO8601DateFormatter().date(from: stamp[..<dot] + "Z") else { return nil }
            return "\(Int64(seconds.timeIntervalSince1970)).\(fraction.padding(toLength: 9, withPad: "0", startingAt: 0))"
        }
    }

    /// Sockets this process has open, to see that a cancelled stream's connection was closed.
    static func openSocketCount() -> Int {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)"))?.hasPrefix("socket:") == true
        }.count
    }

    /// Polls `condition` for up to two seconds.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<40 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
