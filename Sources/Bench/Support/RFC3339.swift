/// Docker's RFC 3339 times (`2025-01-01T12:34:56.123456789Z`, always UTC).
enum RFC3339 {
    static func nanoseconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { nanoseconds(UnsafeRawBufferPointer($0)) }
    }

    /// The same from raw bytes: the load client reads every line's timestamp straight
    /// out of the received frame, without making a `String` of it.
    static func nanoseconds(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.last == UInt8(ascii: "Z"), let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var fraction: Int64 = 0
        if bytes.count > 21, bytes[19] == UInt8(ascii: ".") {
            let digits = bytes.count - 1 - 20
            guard digits <= 9, let value = number(20..<(bytes.count - 1)) else { return nil }
            fraction = value * powersOfTen[9 - digits]
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return seconds * 1_000_000_000 + fraction
    }

    private static let powersOfTen: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// Days from 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
