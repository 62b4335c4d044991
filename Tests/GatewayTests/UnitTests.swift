import Foundation
import NIOCore
import Shared
import Testing

@testable import Gateway

struct AccessPolicyTests {
    let policy = try! AccessPolicy(tokens: ["alpha", "beta-2"], allowsAnonymous: false, allowedOrigins: ["https://logs.example.com"])

    @Test func acceptsAnyConfiguredTokenFromHeaderCookieOrQuery() {
        #expect(policy.decide(.init(authorization: "Bearer alpha")) == .allowed)
        #expect(policy.decide(.init(authorization: "bearer beta-2")) == .allowed)
        #expect(policy.decide(.init(cookieHeaders: ["theme=dark; tailgate_token=beta-2"])) == .allowed)
        #expect(policy.decide(.init(query: "x=1&token=alpha")) == .allowed)
        #expect(policy.decide(.init()) == .unauthorized)
        #expect(policy.decide(.init(authorization: "Bearer alph")) == .unauthorized)
        #expect(policy.decide(.init(authorization: "Bearer alphaa")) == .unauthorized)
        #expect(policy.decide(.init(authorization: "Basic YWxwaGE6")) == .unauthorized)
        #expect(policy.decide(.init(query: "token=alpha" + String(repeating: "x", count: 256))) == .unauthorized)
    }

    @Test func originsMustBeTheGatewaysOwnHostOrConfigured() {
        #expect(policy.isOriginAllowed(nil, host: "127.0.0.1:8080"))
        #expect(policy.isOriginAllowed("http://127.0.0.1:8080", host: "127.0.0.1:8080"))
        #expect(policy.isOriginAllowed("https://gw.example.com", host: "gw.example.com:443"))
        #expect(policy.isOriginAllowed("https://LOGS.example.com", host: "internal:8080"))
        #expect(!policy.isOriginAllowed("http://evil.example", host: "127.0.0.1:8080"))
        #expect(!policy.isOriginAllowed("http://127.0.0.1:9999", host: "127.0.0.1:8080"))
        #expect(!policy.isOriginAllowed("null", host: "127.0.0.1:8080"))
        #expect(policy.isOriginAllowed("ws://127.0.0.1", host: "127.0.0.1:8080"))
        #expect(policy.decide(.init(authorization: "Bearer alpha", origin: "http://evil.example", host: "h")) == .foreignOrigin)
    }

    @Test func refusesBadConfiguration() {
        #expect(throws: ConfigurationError.self) { try AccessPolicy(tokens: [], allowsAnonymous: false) }
        #expect(throws: ConfigurationError.self) { try AccessPolicy(tokens: ["has space"], allowsAnonymous: false) }
        #expect(throws: ConfigurationError.self) { try AccessPolicy(tokens: ["t"], allowsAnonymous: false, allowedOrigins: ["not an origin"]) }
        #expect(try! AccessPolicy(tokens: [], allowsAnonymous: true).decide(.init()) == .allowed)
    }
}

struct CommandLineTests {
    @Test func tokensComeFromRepeatedFlagsOrACommaSeparatedVariable() throws {
        let fromEnvironment = try TailgateGateway.parse([]).resolve(environment: ["TAILGATE_TOKEN": " a, ,b,,", "TAILGATE_PORT": "9000"])
        #expect(fromEnvironment.access.isValid("a") && fromEnvironment.access.isValid("b") && !fromEnvironment.access.isValid(""))
        #expect(fromEnvironment.port == 9000 && fromEnvironment.host == "127.0.0.1")
        let fromFlags = try TailgateGateway.parse(["--token", "x", "--token", "y", "--port", "81", "--host", "0.0.0.0"]).resolve(environment: ["TAILGATE_TOKEN": "z"])
        #expect(fromFlags.access.isValid("x") && fromFlags.access.isValid("y") && !fromFlags.access.isValid("z"))
        #expect(fromFlags.port == 81 && fromFlags.host == "0.0.0.0")
        #expect(throws: ConfigurationError.self) { try TailgateGateway.parse([]).resolve(environment: [:]) }
        #expect(throws: ConfigurationError.self) { try TailgateGateway.parse(["--no-auth", "--port", "0"]).resolve(environment: [:]) }
        #expect(try TailgateGateway.parse(["--no-auth"]).resolve(environment: [:]).access.allowsAnonymous)
    }
}

/// `log.line` frames as the agent writes them.
func lineFrames(_ seqs: ClosedRange<Int>, epoch: String = "e1", container: String = String(repeating: "ab", count: 32)) -> [StreamFrame] {
    seqs.map { seq in
        StreamFrame(
            ByteBuffer(
                bytes: LogLineFrame.encode(
                    LogLine(agentId: "a", containerId: container, seq: seq, epoch: epoch, timestamp: "t", stream: "stdout", message: "m\(seq)")
                )
            )
        )
    }
}

struct HistoryWindowTests {
    let window = HistoryWindow(lines: lineFrames(51...100), epoch: "e1", latestSeq: 100)

    func seqs(_ lines: ArraySlice<StreamFrame>) -> [Int] { lines.compactMap { $0.position?.seq } }

    @Test func tailTakesTheNewestLines() {
        #expect(seqs(window.selection(tail: 3, resume: nil).lines) == [98, 99, 100])
        #expect(window.selection(tail: 0, resume: nil).lines.isEmpty)
        #expect(window.selection(tail: 1000, resume: nil).lines.count == 50)
    }

    @Test func resumeIsExactWithinTheWindow() {
        let resumed = window.selection(tail: 1000, resume: (sinceSeq: 90, epoch: "e1"))
        #expect(resumed.complete && seqs(resumed.lines) == Array(91...100))
        let upToDate = window.selection(tail: 1000, resume: (sinceSeq: 100, epoch: "e1"))
        #expect(upToDate.complete && upToDate.lines.isEmpty)
        let fromTheOldest = window.selection(tail: 1000, resume: (sinceSeq: 50, epoch: "e1"))
        #expect(fromTheOldest.complete && fromTheOldest.lines.count == 50)
    }

    @Test func resumeIsIncompleteForAnOldPositionOrAnotherEpoch() {
        let tooOld = window.selection(tail: 1000, resume: (sinceSeq: 10, epoch: "e1"))
        #expect(!tooOld.complete && seqs(tooOld.lines) == Array(51...100))
        let otherEpoch = window.selection(tail: 20, resume: (sinceSeq: 90, epoch: "e0"))
        #expect(!otherEpoch.complete && seqs(otherEpoch.lines) == Array(81...100))
        #expect(window.lines(after: LinePosition(epoch: "e1", seq: 10)).missing == 11...50)
        #expect(window.lines(after: LinePosition(epoch: "e1", seq: 95)).missing == nil)
    }

    @Test func anEmptyHistoryEndsAtTheMeta() {
        let empty = HistoryWindow(lines: [], epoch: "e1", latestSeq: 7)
        #expect(empty.end == LinePosition(epoch: "e1", seq: 7))
        #expect(empty.lines(after: LinePosition(epoch: "e1", seq: 5)).missing == 6...7)
        #expect(HistoryWindow(lines: [], epoch: "", latestSeq: 0).end == nil)
    }
}

struct ClientOutboxTests {
    let stream = StreamKey(agent: try! AgentID("a"), container: try! ContainerID(String(repeating: "ab", count: 32)))

    /// Everything the writer would send now, decoded.
    func drain(_ outbox: ClientOutbox) -> [[String: Any]] {
        outbox.close(.normalClosure, reason: "", discardingQueue: false)
        var frames: [[String: Any]] = []
        while case .write(let batch) = outbox.next(wakingWhenReady: {}) {
            for frame in batch.frames {
                frames.append(try! JSONSerialization.jsonObject(with: Data(frame.readableBytesView)) as! [String: Any])
            }
            outbox.didWrite(batch)
        }
        return frames
    }

    func seqs(_ frames: [[String: Any]]) -> [Int] {
        frames.flatMap { frame -> [Int] in
            let data = frame["data"] as! [String: Any]
            switch frame["type"] as! String {
            case "log.line": return [data["seq"] as! Int]
            case "log.lines", "log.history": return (data["lines"] as! [[String: Any]]).map { $0["seq"] as! Int }
            default: return []
            }
        }
    }

    @Test func mergesHeldBackLinesAfterTheHistoryWithoutRepeats() {
        let outbox = ClientOutbox(limit: 1 << 20, metrics: GatewayMetrics())
        let ticket = outbox.beginSubscription(to: stream, batchable: false)
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: lineFrames(8...12))])
        let history = lineFrames(1...10)
        outbox.completeSubscription(
            to: stream, ticket: ticket,
            replies: [LineFrames.history(id: .string("s1"), stream: stream, epoch: "e1", complete: true, lines: history)],
            historyEnd: history.last?.position
        )
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: lineFrames(12...14))])
        let frames = drain(outbox)
        #expect(frames.first?["type"] as? String == "log.history" && frames.first?["id"] as? String == "s1")
        #expect(seqs(frames) == Array(1...14))
    }

    /// Lines 101...200 arrive while the history (ending at `historyEnd`) is read, on an
    /// outbox that holds 10 of them; what the client is sent once the history is in.
    func framesAfterABurst(historyEnd: Int) -> [[String: Any]] {
        let burst = lineFrames(101...200)  // frames of one size
        let outbox = ClientOutbox(limit: burst[0].bytes.readableBytes * 10, metrics: GatewayMetrics())
        let ticket = outbox.beginSubscription(to: stream, batchable: false)
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: burst)])
        outbox.completeSubscription(to: stream, ticket: ticket, replies: [], historyEnd: LinePosition(epoch: "e1", seq: historyEnd))
        return drain(outbox)
    }

    /// A stream catching up at full speed while the history is read: the held-back
    /// lines the history covers give way, and the newer ones all come through.
    @Test func aBurstDuringTheHistoryReadLosesNothingTheHistoryDoesNotCover() {
        let frames = framesAfterABurst(historyEnd: 195)
        #expect(seqs(frames) == Array(196...200))
        #expect(!frames.contains { $0["type"] as? String == "log.gap" })
    }

    /// A history read older than the held-back lines kept: what neither covers is a gap, before the kept lines.
    @Test func heldBackLinesDroppedAfterTheHistoryAreAGapBeforeTheRest() {
        let frames = framesAfterABurst(historyEnd: 150)
        #expect(frames.first?["type"] as? String == "log.gap")
        let gaps = frames.filter { $0["type"] as? String == "log.gap" }.map { $0["data"] as! [String: Any] }
        #expect(gaps.first?["fromSeq"] as? Int == 151 && gaps.first?["toSeq"] as? Int == 190)
        // The queue has the same limit, so the gap frame may push the newest line out: it is reported too.
        let delivered = seqs(frames)
        #expect(delivered.count >= 9 && delivered == Array(191...(190 + delivered.count)))
        #expect(max(delivered.last ?? 0, gaps.last?["toSeq"] as? Int ?? 0) == 200)
    }

    @Test func dropsLinesOfASlowClientAndReportsThemAsAGap() {
        let lines = lineFrames(1...100)
        let lineSize = lines[0].bytes.readableBytes
        let outbox = ClientOutbox(limit: lineSize * 10, metrics: GatewayMetrics())
        outbox.completeSubscription(to: stream, ticket: outbox.beginSubscription(to: stream, batchable: true), replies: [], historyEnd: nil)
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: lines)])
        let frames = drain(outbox)
        let gap = frames.first { $0["type"] as? String == "log.gap" }?["data"] as? [String: Any]
        let delivered = seqs(frames)
        #expect(delivered.count >= 9 && delivered == Array(1...delivered.count))
        #expect(gap?["fromSeq"] as? Int == delivered.count + 1 && gap?["toSeq"] as? Int == 100)
        #expect(frames.contains { $0["type"] as? String == "log.lines" })
    }

    @Test func recoveryFillsWhatWasMissedAndReportsTheRest() {
        let outbox = ClientOutbox(limit: 1 << 20, metrics: GatewayMetrics())
        outbox.completeSubscription(to: stream, ticket: outbox.beginSubscription(to: stream, batchable: false), replies: [], historyEnd: nil)
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: lineFrames(1...5))])
        let ticket = try! #require(outbox.beginRecovery()[stream])
        #expect(ticket.last == LinePosition(epoch: "e1", seq: 5))
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: lineFrames(20...22))])
        let window = HistoryWindow(lines: lineFrames(10...21), epoch: "e1", latestSeq: 21)
        outbox.completeRecovery(of: stream, ticket: ticket, missed: window.lines(after: ticket.last!))
        let frames = drain(outbox)
        #expect(seqs(frames) == Array(1...5) + Array(10...22))
        let gap = frames.first { $0["type"] as? String == "log.gap" }?["data"] as? [String: Any]
        #expect(gap?["fromSeq"] as? Int == 6 && gap?["toSeq"] as? Int == 9)
    }

    /// A batching client gets a stream's lines as `log.lines` frames of at most one batch
    /// (256 KiB of frames), in order, each stream's run apart; one that does not batch gets `log.line` each.
    @Test func runsOfLinesBecomeBoundedBatchesPerStream() throws {
        let other = StreamKey(agent: try AgentID("b"), container: try ContainerID(String(repeating: "cd", count: 32)))
        let outbox = ClientOutbox(limit: 16 << 20, metrics: GatewayMetrics())
        outbox.completeSubscription(to: stream, ticket: outbox.beginSubscription(to: stream, batchable: true), replies: [], historyEnd: nil)
        outbox.completeSubscription(to: other, ticket: outbox.beginSubscription(to: other, batchable: false), replies: [], historyEnd: nil)
        let many = lineFrames(1...3000)
        outbox.deliver([
            ClientOutbox.Run(stream: stream, frames: Array(many[..<1000])),
            ClientOutbox.Run(stream: other, frames: lineFrames(1...2, container: String(repeating: "cd", count: 32))),
            ClientOutbox.Run(stream: stream, frames: Array(many[1000...])),
        ])
        let frames = drain(outbox)
        let batches = frames.filter { $0["type"] as? String == "log.lines" }
        let lineSize = many[0].bytes.readableBytes
        #expect(batches.count >= 3000 * lineSize / (256 << 10))
        #expect(batches.allSatisfy { (($0["data"] as! [String: Any])["lines"] as! [Any]).count <= (256 << 10) / lineSize + 1 })
        let singles = frames.filter { $0["type"] as? String == "log.line" }
        #expect(singles.map { ($0["data"] as! [String: Any])["containerId"] as? String } == [other.container.rawValue, other.container.rawValue])
        #expect(seqs(batches) == Array(1...3000))
        // The other stream's lines come between the two runs, where they arrived.
        let firstSingle = try #require(frames.firstIndex { $0["type"] as? String == "log.line" })
        #expect(seqs(Array(frames[..<firstSingle])) == Array(1...1000))
    }

    /// Lines of later reads join the run still queued: a client that falls behind
    /// gets a few large `log.lines` rather than one per read of the Redis socket.
    @Test func linesOfLaterReadsJoinTheQueuedRun() {
        let outbox = ClientOutbox(limit: 1 << 20, metrics: GatewayMetrics())
        outbox.completeSubscription(to: stream, ticket: outbox.beginSubscription(to: stream, batchable: true), replies: [], historyEnd: nil)
        for read in [1...3, 4...4, 5...9] {
            outbox.deliver([ClientOutbox.Run(stream: stream, frames: lineFrames(read))])
        }
        let frames = drain(outbox)
        #expect(frames.map { $0["type"] as? String } == ["log.lines"])
        #expect(seqs(frames) == Array(1...9))
    }

    @Test func aNewEpochIsNotMistakenForOldLines() {
        let outbox = ClientOutbox(limit: 1 << 20, metrics: GatewayMetrics())
        outbox.completeSubscription(to: stream, ticket: outbox.beginSubscription(to: stream, batchable: false), replies: [], historyEnd: nil)
        outbox.deliver([ClientOutbox.Run(stream: stream, frames: (lineFrames(1...50, epoch: "old") + lineFrames(1...3, epoch: "new")))])
        #expect(seqs(drain(outbox)) == Array(1...50) + [1, 2, 3])
    }
}

struct EpochTests {
    /// Short ASCII epochs (the agent's 16 hex digits) are stored inline, others as strings:
    /// either way an epoch made from a frame's bytes equals the one made from its text.
    @Test(arguments: ["", "e1", "0123456789abcdef", "0123456789abcdef0", "époque", String(repeating: "z", count: 40)])
    func anEpochIsItsText(_ text: String) {
        let fromBytes = Array(text.utf8).withUnsafeBytes { Epoch($0) }
        #expect(fromBytes == Epoch(text))
        #expect(fromBytes.hashValue == Epoch(text).hashValue)
        #expect(fromBytes.description == text)
        #expect(fromBytes.isEmpty == text.isEmpty)
    }

    @Test func epochsThatDifferAreNotEqual() {
        #expect(Epoch("0123456789abcdef") != Epoch("0123456789abcdee"))
        #expect(Epoch("0123456789abcdef") != Epoch("0123456789abcdef0"))
        // The inline bytes are zero-padded: a trailing NUL must still count.
        #expect(Epoch("ab") != Epoch("ab\u{0}"))
    }
}

struct LineFramesTests {
    @Test func historyIsValidJSONWithTheLinesAsTheAgentWroteThem() throws {
        let stream = StreamKey(agent: try AgentID("a"), container: try ContainerID(String(repeating: "ab", count: 32)))
        let bytes = LineFrames.history(id: .number(7), stream: stream, epoch: "e1", complete: false, lines: lineFrames(1...3))
        let frame = try JSONDecoder().decode(Frame<HistoryPayload>.self, from: Data(bytes.readableBytesView))
        #expect(frame.type == .history && frame.id == .number(7))
        #expect(frame.data.lines.map(\.seq) == [1, 2, 3] && frame.data.lines[2].message == "m3" && !frame.data.complete)
        let batch = LineFrames.lines(stream: stream, lines: lineFrames(4...5))
        #expect(try JSONDecoder().decode(Frame<LinesPayload>.self, from: Data(batch.readableBytesView)).data.lines.map(\.seq) == [4, 5])
    }
}
