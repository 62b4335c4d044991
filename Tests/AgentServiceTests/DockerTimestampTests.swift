import Testing

@testable import AgentService

@Suite struct DockerTimestampTests {
    @Test func parsesDockersNanosecondTimestamp() throws {
        let timestamp = try #require(DockerTimestamp("2024-05-01T12:34:56.123456789Z"))
        #expect(timestamp.nanosecondsSinceEpoch == 1_714_566_896_123_456_789)
        #expect(timestamp.text == "2024-05-01T12:34:56.123456789Z")
        #expect(timestamp.description == timestamp.text)
    }

    @Test(arguments: [
        ("2024-05-01T12:34:56.5Z", 1_714_566_896_500_000_000),
        ("2024-05-01T12:34:56.12Z", 1_714_566_896_120_000_000),
        ("2024-05-01T12:34:56.000001Z", 1_714_566_896_000_001_000),
        ("2024-05-01T12:34:56Z", 1_714_566_896_000_000_000),
        ("2024-05-01t12:34:56z", 1_714_566_896_000_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.5Z", -500_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),
    ] as [(String, Int64)])
    func parsesFewerFractionDigitsAndOtherDates(text: String, nanoseconds: Int64) throws {
        let timestamp = try #require(DockerTimestamp(text))
        #expect(timestamp.nanosecondsSinceEpoch == nanoseconds)
        #expect(timestamp.text == text)
    }

    @Test func theLongestTimestampKeepsAllItsText() throws {
        let text = "2024-05-01T14:34:56.123456789+02:00"
        #expect(text.utf8.count == DockerTimestamp.maxTextLength)
        let timestamp = try #require(DockerTimestamp(text))
        #expect(timestamp.text == text)
        #expect(timestamp.withTextBytes { Array($0) } == Array(text.utf8))
        #expect(DockerTimestamp(text + "0") == nil)
    }

    @Test func offsetsNameTheSameInstant() throws {
        let utc = try #require(DockerTimestamp("2024-05-01T12:34:56.123Z"))
        let east = try #require(DockerTimestamp("2024-05-01T14:34:56.123+02:00"))
        let west = try #require(DockerTimestamp("2024-05-01T07:04:56.123-05:30"))
        let zero = try #require(DockerTimestamp("2024-05-01T12:34:56.123+00:00"))
        #expect(east == utc)
        #expect(west == utc)
        #expect(zero == utc)
        #expect(zero.text == "2024-05-01T12:34:56.123+00:00", "the text stays as Docker wrote it")
        #expect(Set([utc, east, west, zero]).count == 1)
    }

    @Test(arguments: [
        "",
        "not a timestamp",
        "2024-05-01",
        "2024-05-01T12:34:56",  // no zone
        "2024-05-01T12:34:56.Z",  // empty fraction
        "2024-05-01T12:34:56.1234567891Z",  // more than nanoseconds
        "2024-13-01T12:34:56Z",
        "2024-00-01T12:34:56Z",
        "2023-02-29T12:34:56Z",
        "1900-02-29T12:34:56Z",
        "2024-04-31T12:34:56Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:34:60Z",
        "2024-05-01 12:34:56Z",
        "2024-05-01T12:34:56+0200",
        "2024-05-01T12:34:56+24:00",
        "2024-05-01T12:34:56Z ",  // one timestamp and nothing else
        "2024-5-01T12:34:56Z",
        "２024-05-01T12:34:56Z",
        "9999-12-31T23:59:59Z",  // beyond Int64 nanoseconds
    ])
    func rejectsWhatIsNotOneTimestamp(text: String) {
        #expect(DockerTimestamp(text) == nil)
    }

    @Test func prefixNeedsTheSpaceAfterTheTimestamp() throws {
        let message = Array("2024-05-01T12:34:56.5Z hello".utf8)
        let prefix = try #require(message.withUnsafeBytes { DockerTimestamp.prefix(of: $0) })
        #expect(prefix.length == 23)
        #expect(prefix.timestamp.text == "2024-05-01T12:34:56.5Z")
        #expect(message.withUnsafeBytes { DockerTimestamp.prefixLength(of: $0) } == 23)

        for notPrefixed in ["2024-05-01T12:34:56.5Z", "2024-05-01T12:34:56.5Zhello", "hello", "2024-05-01T12:34"] {
            #expect(Array(notPrefixed.utf8).withUnsafeBytes { DockerTimestamp.prefix(of: $0) } == nil)
        }
    }

    @Test(arguments: [
        ("2024-05-01T12:34:56.123456789Z", "1714566896.123456789"),
        ("2024-05-01T12:34:56.5Z", "1714566896.500000000"),
        ("2024-05-01T12:34:56Z", "1714566896.000000000"),
        ("2024-05-01T12:34:56.000000001Z", "1714566896.000000001"),
        ("1970-01-01T00:00:00Z", "0.000000000"),
        // Docker reads seconds and nanoseconds apart: Unix(-1, 500000000) is 0.5 s before the epoch.
        ("1969-12-31T23:59:59.5Z", "-1.500000000"),
        ("1969-12-31T23:59:59Z", "-1.000000000"),
    ])
    func formatsDockersSinceValue(text: String, since: String) throws {
        #expect(try #require(DockerTimestamp(text)).sinceQueryValue == since)
    }

    @Test func ordersByInstant() throws {
        let texts = [
            "2024-05-01T12:34:56.2Z",
            "2024-05-01T12:34:56.123456789Z",
            "2024-05-01T12:34:56.123456788Z",
            "2024-05-01T14:34:57+02:00",
            "2023-12-31T23:59:59.999999999Z",
            "2024-05-01T12:34:56.12345679Z",
        ]
        let sorted = try texts.map { try #require(DockerTimestamp($0)) }.sorted().map(\.text)
        #expect(sorted == [
            "2023-12-31T23:59:59.999999999Z",
            "2024-05-01T12:34:56.123456788Z",
            "2024-05-01T12:34:56.123456789Z",
            "2024-05-01T12:34:56.12345679Z",
            "2024-05-01T12:34:56.2Z",
            "2024-05-01T14:34:57+02:00",
        ])
        #expect(DockerTimestamp.epoch < DockerTimestamp("2024-05-01T12:34:56Z")!)
        #expect(DockerTimestamp.epoch == DockerTimestamp("1970-01-01T00:00:00Z"))
    }
}
