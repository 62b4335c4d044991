/// A Docker log timestamp: RFC 3339 with up to nanosecond precision, as Docker
/// prefixes each log message with when asked for `timestamps=1`
/// (`2024-05-01T12:34:56.123456789Z`).
///
/// Keeps the text as Docker wrote it, for passing on unchanged (SPEC §4 `Line.timestamp`),
/// and the instant, for ordering and for resuming with Docker's `since`.
/// Equality and ordering look at the instant only.
///
/// The text is held inline, not as a `String`: Docker's 30 bytes are too long for
/// a small string, and every log line has a timestamp, so a `String` would cost
/// an allocation and a release per line.
public struct DockerTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let nanosecondsSinceEpoch: Int64
    /// The first `textLength` bytes are the text; `parse` accepts nothing longer than `maxTextLength`.
    private let textBytes: TextStorage
    private let textLength: UInt8

    /// Stands in for the time of a line that came without a timestamp before any line with one.
    public static let epoch = DockerTimestamp("1970-01-01T00:00:00.000000000Z")!

    private typealias TextStorage = InlineArray<35, UInt8>

    /// `YYYY-MM-DDTHH:MM:SS.fffffffff+HH:MM`: the longest timestamp this type reads.
    static let maxTextLength = TextStorage.count

    /// The text as Docker wrote it.
    public var text: String { withTextBytes { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the text's UTF-8 bytes, without making a `String` of them.
    public func withTextBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        textBytes.span.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<Int(textLength)])) }
    }

    /// Parses a whole timestamp, e.g. one stored earlier; nil unless `text` is exactly one timestamp.
    public init?(_ text: String) {
        var text = text
        let parsed: DockerTimestamp? = text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard let parsed = Self.parse(bytes), parsed.textLength == bytes.count else { return nil }
            return DockerTimestamp(text: bytes, nanosecondsSinceEpoch: parsed.nanoseconds)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// - Parameter text: at most `maxTextLength` bytes, as `parse` guarantees.
    private init(text: UnsafeRawBufferPointer, nanosecondsSinceEpoch: Int64) {
        precondition(text.count <= Self.maxTextLength, "a timestamp is at most maxTextLength bytes")
        var bytes = TextStorage(repeating: 0)
        withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: text) }
        self.textBytes = bytes
        self.textLength = UInt8(text.count)
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// The timestamp a Docker log message starts with and the length of that prefix
    /// including the space after it; nil if `message` does not start that way.
    static func prefix(of message: UnsafeRawBufferPointer) -> (timestamp: DockerTimestamp, length: Int)? {
        guard let parsed = parsePrefix(of: message) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: message[..<parsed.textLength])
        return (DockerTimestamp(text: text, nanosecondsSinceEpoch: parsed.nanoseconds), parsed.textLength + 1)
    }

    /// Like `prefix(of:)` without building the timestamp: for parts whose timestamp is not kept.
    static func prefixLength(of message: UnsafeRawBufferPointer) -> Int? {
        parsePrefix(of: message).map { $0.textLength + 1 }
    }

    /// The value for Docker's `since` query parameter: `seconds.nanoseconds`, nine fraction digits.
    public var sinceQueryValue: String {
        // Floor division keeps the fraction non-negative before 1970, as Docker's own parser expects.
        let (seconds, nanoseconds) = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: Self.nanosecondsPerSecond)
        let (wholeSeconds, fraction) = nanoseconds < 0
            ? (seconds - 1, nanoseconds + Self.nanosecondsPerSecond)
            : (seconds, nanoseconds)
        let fractionDigits = String(fraction)
        return "\(wholeSeconds)." + String(repeating: "0", count: 9 - fractionDigits.count) + fractionDigits
    }

    public var description: String { text }

    public static func == (lhs: DockerTimestamp, rhs: DockerTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch == rhs.nanosecondsSinceEpoch
    }

    public static func < (lhs: DockerTimestamp, rhs: DockerTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(nanosecondsSinceEpoch)
    }

    private static let nanosecondsPerSecond: Int64 = 1_000_000_000

    private static func parsePrefix(of message: UnsafeRawBufferPointer) -> (nanoseconds: Int64, textLength: Int)? {
        guard let parsed = parse(message),
            parsed.textLength < message.count,
            message[parsed.textLength] == UInt8(ascii: " ")
        else { return nil }
        return parsed
    }

    /// Reads one RFC 3339 timestamp at the start of `bytes` by hand: this runs once per log line.
    private static func parse(_ bytes: UnsafeRawBufferPointer) -> (nanoseconds: Int64, textLength: Int)? {
        // The fixed part: YYYY-MM-DDTHH:MM:SS
        guard bytes.count >= 20,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = digits(bytes, 0, 4), let month = digits(bytes, 5, 2), let day = digits(bytes, 8, 2),
            let hour = digits(bytes, 11, 2), let minute = digits(bytes, 14, 2), let second = digits(bytes, 17, 2),
            (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var fraction: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            // Docker trims trailing zeros, so there may be 1 to 9 digits; scale them to nanoseconds.
            while index < bytes.count, index - fractionStart < 9, let digit = digitValue(bytes[index]) {
                fraction = fraction * 10 + Int64(digit)
                index += 1
            }
            let fractionLength = index - fractionStart
            guard fractionLength > 0 else { return nil }
            for _ in fractionLength..<9 { fraction *= 10 }
        }

        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 <= bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = digits(bytes, index + 1, 2), let offsetMinutes = digits(bytes, index + 4, 2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            index += 6
        default:
            return nil
        }

        let seconds = Int64(daysSinceEpoch(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        // Int64 nanoseconds reach the years 1677 to 2262; anything outside is not a log time.
        let (scaled, overflowed) = seconds.multipliedReportingOverflow(by: nanosecondsPerSecond)
        guard !overflowed else { return nil }
        let (nanoseconds, overflowedSum) = scaled.addingReportingOverflow(fraction)
        guard !overflowedSum else { return nil }
        return (nanoseconds, index)
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        let value = byte &- UInt8(ascii: "0")
        return value < 10 ? Int(value) : nil
    }

    private static func digits(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            guard let digit = digitValue(bytes[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
