@testable import AgentService
import Testing

struct ResumeFilterTests {
    private func record(_ timestamp: String, _ message: String) throws -> DockerLogRecord {
        DockerLogRecord(stream: .stdout, timestamp: try #require(DockerTimestamp(timestamp)), message: message)
    }

    @Test func skipsExactlyTheLinesPublishedAtTheNewestTimestamp() throws {
        var position = StreamPosition.fresh(epoch: "e")
        let published = [
            try record("2024-01-01T00:00:01.000000001Z", "a"),
            try record("2024-01-01T00:00:02.000000000Z", "b"),
            try record("2024-01-01T00:00:02.000000000Z", "c"),
        ]
        for line in published { position.advance(past: line.timestamp) }
        #expect(position.seq == 3)
        #expect(position.linesAtNewestTimestamp == 2)

        // Docker's `since` is inclusive: it repeats b and c, then a third line with the same stamp is new.
        var filter = ResumeFilter(resumingAt: position)
        let resumed = [
            try record("2024-01-01T00:00:02.000000000Z", "b"),
            try record("2024-01-01T00:00:02.000000000Z", "c"),
            try record("2024-01-01T00:00:02.000000000Z", "d"),
            try record("2024-01-01T00:00:03.000000000Z", "e"),
        ]
        #expect(resumed.filter { filter.isNew($0) }.map(\.message) == ["d", "e"])
    }

    @Test func olderStampArrivingLateDoesNotMovePositionBack() throws {
        var position = StreamPosition.fresh(epoch: "e")
        position.advance(past: try #require(DockerTimestamp("2024-01-01T00:00:02.000000000Z")))
        position.advance(past: try #require(DockerTimestamp("2024-01-01T00:00:01.500000000Z")))
        #expect(position.seq == 2)
        #expect(position.newestTimestamp?.text == "2024-01-01T00:00:02.000000000Z")
        #expect(position.linesAtNewestTimestamp == 1)
    }

    @Test func freshPositionFiltersNothing() throws {
        var filter = ResumeFilter(resumingAt: .fresh(epoch: "e"))
        #expect(filter.isNew(try record("1970-01-01T00:00:00Z", "x")))
    }
}
