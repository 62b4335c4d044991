import Foundation
import NIOCore
import Shared
import Testing
import TestSupport
@testable import AgentService

/// The pure parts a `LogFollower` is made of: the answer head it reads, the encoder
/// that turns Docker's bytes into frames, and its read pacing.
struct DockerResponseHeadTests {
    @Test func waitsForTheBlankLine() throws {
        #expect(try DockerResponseHead.parse(Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n".utf8)) == nil)
    }

    @Test func anUnchunkedStreamHasNoLengthAndItsBodyStartsAfterTheHead() throws {
        let text = "HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n\u{1}\0\0\0"
        let head = try #require(try DockerResponseHead.parse(Array(text.utf8)))
        #expect(head.status == 200)
        #expect(head.contentLength == nil)
        #expect(head.byteCount == text.utf8.count - 4)
    }

    @Test func anErrorCarriesItsReasonAndLength() throws {
        let head = try #require(try DockerResponseHead.parse(Array("HTTP/1.1 404 Not Found\r\ncontent-length: 42\r\n\r\n".utf8)))
        #expect(head.status == 404)
        #expect(head.reason == "Not Found")
        #expect(head.contentLength == 42)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "SSH-2.0-OpenSSH_9.2\r\n\r\n",
        "HTTP/1.0 abc OK\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
    ])
    func rejectsWhatItCannotRead(text: String) {
        #expect(throws: DockerError.self) { try DockerResponseHead.parse(Array(text.utf8)) }
    }

    @Test func aHeadThatNeverEndsIsRejected() {
        let endless = Array("HTTP/1.0 200 OK\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: DockerResponseHead.maximumByteCount + 10)
        #expect(throws: DockerError.self) { try DockerResponseHead.parse(endless) }
    }
}

struct LogLineEncoderTests {
    static let container = try! ContainerID(String(repeating: "c0ffee", count: 10) + "c0ff")
    static let agent = try! AgentID("host-a")

    /// `count` stdout lines `line1`…, one second apart, as Docker frames them with timestamps.
    static func body(lines: ClosedRange<Int>) -> [UInt8] {
        lines.flatMap { DockerLogFixtures.frame(.stdout, "2024-05-01T10:00:\(String(format: "%02d", $0)).000000001Z line\($0)\n") }
    }

    /// The frames in `batch`, decoded.
    static func frames(_ batch: RedisBulkArguments) throws -> [[String: Any]] {
        var frames: [[String: Any]] = []
        var rest = batch.encoded[...]
        while let newline = rest.firstIndex(of: 10) {
            let length = try #require(Int(String(decoding: rest[rest.index(after: rest.startIndex)..<(newline - 1)], as: UTF8.self)))
            let frame = rest[(newline + 1)..<(newline + 1 + length)]
            let object = try #require(try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
            frames.append(try #require(object["data"] as? [String: Any]))
            rest = rest[(newline + 3 + length)...]
        }
        return frames
    }

    /// An encoder from `start` that has decoded lines `lines` (made by `body(lines:)`).
    static func encoder(decoding lines: ClosedRange<Int>, from start: StreamPosition = .fresh(epoch: "e1")) throws -> LogLineEncoder {
        var encoder = LogLineEncoder(tty: false, start: start, agentID: agent, container: container)
        var buffer = ByteBuffer(bytes: body(lines: lines))
        try encoder.decode(&buffer)
        return encoder
    }

    @Test func framesAreNumberedOnWhereverTheChunksSplit() throws {
        var encoder = LogLineEncoder(tty: false, start: .fresh(epoch: "e1"), agentID: Self.agent, container: Self.container)
        var batch = RedisBulkArguments()
        for chunk in DockerLogFixtures.chunks(of: Self.body(lines: 1...5), size: 7) {
            var buffer = ByteBuffer(bytes: chunk)
            try encoder.decode(&buffer)
            encoder.encode(into: &batch, maxLines: 1000)
        }
        let frames = try Self.frames(batch)
        #expect(frames.map { $0["seq"] as? Int } == [1, 2, 3, 4, 5])
        #expect(frames.map { $0["message"] as? String } == (1...5).map { "line\($0)" })
        #expect(frames.allSatisfy { $0["epoch"] as? String == "e1" && $0["containerId"] as? String == Self.container.rawValue })
        #expect(encoder.position.seq == 5)
        #expect(encoder.position.newestTimestamp?.text == "2024-05-01T10:00:05.000000001Z")
    }

    @Test func aFullBatchLeavesTheRestWaiting() throws {
        var encoder = try Self.encoder(decoding: 1...5)
        var first = RedisBulkArguments()
        encoder.encode(into: &first, maxLines: 3)
        #expect(first.count == 3)
        #expect(encoder.hasDecodedLines)
        #expect(encoder.position.seq == 3, "the position is the batch's end")
        var second = RedisBulkArguments()
        encoder.encode(into: &second, maxLines: 3)
        #expect(try Self.frames(second).map { $0["seq"] as? Int } == [4, 5])
        #expect(!encoder.hasDecodedLines)
    }

    @Test func aBatchEndsOnceItHasTheMostBytes() throws {
        var encoder = try Self.encoder(decoding: 1...3)
        var batch = RedisBulkArguments()
        encoder.encode(into: &batch, maxLines: 1000, maxBytes: 1)
        #expect(batch.count == 1, "the line that reaches the size still goes in; the next waits")
        #expect(encoder.hasDecodedLines)
    }

    @Test func aResumedLogSkipsWhatWasPublishedAndContinuesItsSeq() throws {
        var published = try Self.encoder(decoding: 1...3)
        var ignored = RedisBulkArguments()
        published.encode(into: &ignored, maxLines: 1000)

        // Docker's `since` is inclusive: the resumed read starts again at line 3.
        var resumed = try Self.encoder(decoding: 3...5, from: published.position)
        var batch = RedisBulkArguments()
        resumed.encode(into: &batch, maxLines: 1000)
        #expect(try Self.frames(batch).map { $0["message"] as? String } == ["line4", "line5"])
        #expect(try Self.frames(batch).map { $0["seq"] as? Int } == [4, 5])
    }

    @Test func aStoppedTTYsLastOutputWithoutNewlineComesWithFinish() throws {
        var encoder = LogLineEncoder(tty: true, start: .fresh(epoch: "e1"), agentID: Self.agent, container: Self.container)
        var buffer = ByteBuffer(string: "2024-05-01T10:00:01.000000001Z one\r\n2024-05-01T10:00:02.000000001Z prompt$ ")
        try encoder.decode(&buffer)
        var batch = RedisBulkArguments()
        encoder.encode(into: &batch, maxLines: 1000)
        #expect(try Self.frames(batch).map { $0["message"] as? String } == ["one"])
        try encoder.finish()
        var last = RedisBulkArguments()
        encoder.encode(into: &last, maxLines: 1000)
        #expect(try Self.frames(last).map { $0["message"] as? String } == ["prompt$ "])
    }

    @Test func readsComeAtMostEveryIntervalUnlessTheLastWasLarge() {
        let now = ContinuousClock.now
        #expect(LogFollower.nextRead(afterReading: 100, at: now) == now + LogFollower.busyReadInterval)
        #expect(LogFollower.nextRead(afterReading: LogFollower.largeRead, at: now) == now)
    }
}

/// A batch's transaction, applied to a real Redis, and the check that tells whether a batch is in.
struct StreamAppenderTests {
    static let appender = StreamAppender(
        historyKey: "h", metaKey: "m", channel: "c", historySize: 3, retention: .seconds(60)
    )

    static func position(seq: Int, epoch: String = "e1") -> StreamPosition {
        StreamPosition(seq: seq, epoch: epoch, newestTimestamp: DockerTimestamp("2024-05-01T10:00:00.000000001Z"), linesAtNewestTimestamp: 2)
    }

    @Test func aBatchGoesIntoTheTrimmedHistoryNewestFirstAndIntoMeta() async throws {
        let server = try await RedisServer()
        let connection = try BlockingRedisConnection(configuration: server.configuration())
        var frames = RedisBulkArguments()
        for index in 1...4 { frames.append(Array("frame \(index)".utf8)) }
        let transaction = Self.appender.transaction(frames, upTo: Self.position(seq: 4))
        let replies = try connection.run(transaction)
        #expect(transaction.replyCount == 4 + 7, "MULTI, LPUSH, a PUBLISH per frame, LTRIM, HSET, two EXPIREs, EXEC")
        guard case .array(let results) = replies.last else {
            Issue.record("EXEC answered \(String(describing: replies.last))")
            return
        }
        #expect(results.count == 4 + 5)
        let history = try connection.roundTrip(RedisCommand("LRANGE", "h", "0", "-1")).array().map { try $0.string() }
        #expect(history == ["frame 4", "frame 3", "frame 2"])
        let meta = try connection.roundTrip(RedisCommand("HMGET", "m", "epoch", "seq", "lastTimestamp", "lastTimestampCount")).array().map { try $0.string() }
        #expect(meta == ["e1", "4", "2024-05-01T10:00:00.000000001Z", "2"])
        #expect(try connection.roundTrip(RedisCommand("TTL", "h")).int() > 0)
        #expect(try connection.roundTrip(RedisCommand("TTL", "m")).int() > 0)
        #expect(try StreamAppender.hasApplied(connection.roundTrip(Self.appender.savedPosition), upTo: Self.position(seq: 4)))
    }

    @Test func aBatchIsInWhenMetaHasItsEpochAndItsSeqOrLater() throws {
        func meta(_ epoch: String?, _ seq: String?) -> RESPValue {
            .array([epoch.map { .bulkString(ByteBuffer(string: $0)) } ?? .null, seq.map { .bulkString(ByteBuffer(string: $0)) } ?? .null])
        }
        #expect(try StreamAppender.hasApplied(meta("e1", "10"), upTo: Self.position(seq: 10)))
        #expect(try StreamAppender.hasApplied(meta("e1", "12"), upTo: Self.position(seq: 10)))
        #expect(try !StreamAppender.hasApplied(meta("e1", "9"), upTo: Self.position(seq: 10)))
        #expect(try !StreamAppender.hasApplied(meta("e0", "12"), upTo: Self.position(seq: 10)), "another history")
        #expect(try !StreamAppender.hasApplied(meta(nil, nil), upTo: Self.position(seq: 10)), "no meta: expired or never written")
        #expect(throws: RedisError.self) { try StreamAppender.hasApplied(.error("WRONGTYPE"), upTo: Self.position(seq: 10)) }
    }
}
